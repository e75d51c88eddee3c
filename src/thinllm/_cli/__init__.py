"""Subcommands of the ``thinllm`` command line (see ``thinllm.cli``)."""
