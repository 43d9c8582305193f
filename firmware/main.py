"""Boot entry point of the lux node (kept tiny: the board compiles it)."""

import node

node.main()
