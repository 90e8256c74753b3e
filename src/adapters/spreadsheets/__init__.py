"""Spreadsheet files (Excel xlsx) read with openpyxl."""
