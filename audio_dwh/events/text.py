"""eventsim's double-encoded UTF-8 text: made by the simulator, repaired by the reference builder.

eventsim's song catalogue stores non-ASCII names UTF-8 encoded and then read as Latin-1 twice, so
"Björk" arrives as "BjÃ\\x83Â¶rk". Warehouse SQL repairs the same way (staging models).
"""

from __future__ import annotations


def double_encode(text: str) -> str:
    """Mis-decode UTF-8 as Latin-1 twice, as eventsim's data does for non-ASCII names."""
    for _ in range(2):
        text = text.encode("utf-8").decode("latin-1")
    return text


def repair_double_encoding(text: str) -> str:
    """Undo up to two rounds of UTF-8-read-as-Latin-1; text that was never mangled is unchanged."""
    for _ in range(2):
        try:
            text = text.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            break
    return text
