"""The open, runnable recipe of the Hala paper: Arabic-centric instruction and translation models by translate-and-tune.

Modules:

- `hala.chats`: One adapter per source schema into chat records, turns cut into kept pieces (code, URLs, markup) and prose, prose fitted to the translator's segment length, and the audit's defect classes with their policies."""

__version__ = "0.1.0"
