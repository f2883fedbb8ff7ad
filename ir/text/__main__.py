"""`python -m ir.text GRAMMAR.lark ...`: write the JSON parser tables beside each grammar."""

import sys

from ir.text.lalr import main

sys.exit(main(sys.argv[1:]))
