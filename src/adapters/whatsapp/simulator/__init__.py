"""A Cloud API simulator: Meta's Graph API endpoints, signed webhooks, customers and faults on demand."""

from pywhatsapp.adapters.whatsapp.simulator.app import create_simulator_app, run_simulator
from pywhatsapp.adapters.whatsapp.simulator.settings import SimulatorSettings

__all__ = ["SimulatorSettings", "create_simulator_app", "run_simulator"]
