"""A small valid flow JSON (two screens, a data exchange), as Meta's Flow JSON reference shapes it."""

from __future__ import annotations

from typing import Any

FLOW_JSON: dict[str, Any] = {
    "version": "7.1",
    "data_api_version": "3.0",
    "routing_model": {"WELCOME": ["DONE"], "DONE": []},
    "screens": [
        {
            "id": "WELCOME",
            "title": "Welcome",
            "data": {"greeting": {"type": "string", "__example__": "Hi"}},
            "layout": {
                "type": "SingleColumnLayout",
                "children": [
                    {"type": "TextBody", "text": "${data.greeting}"},
                    {
                        "type": "Footer",
                        "label": "Next",
                        "on-click-action": {"name": "data_exchange", "payload": {}},
                    },
                ],
            },
        },
        {
            "id": "DONE",
            "title": "Done",
            "terminal": True,
            "layout": {"type": "SingleColumnLayout", "children": []},
        },
    ],
}
