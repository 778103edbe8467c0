"""The commands of the ``optima-v2`` CLI, one module each (``optima_v2.cli`` wires argparse)."""
