import sys

from compiler.cli import entry

sys.exit(entry())
