"""One module per `resyolo` subcommand; each has ``add_parser(subparsers)``."""
