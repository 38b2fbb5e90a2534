"""Knowledge texts as the learned layers read them, folded once per knowledge version.

Folding (normalisation: teencode, tone marks, marker words) of the ~5,000 triage examples and
the ~4,500 questions, examples and out-of-scope messages of the ranker took about a second of
every start (issue 13: load within 2 s). The folded texts are knowledge-base text, never user
text, so they are kept beside the fitted weights (bot.core.fitting) and read back at the next
start; any change to the texts, the lexicon or the folding code folds them again.
"""

from __future__ import annotations

import hashlib
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.core.fitting import Arrays, kept, pack_texts, unpack_texts


def _fold_code_digest() -> bytes:
    """The code that folds an example (normalisation, marker words) and the Unicode tables it
    reads: a change to either folds the examples again instead of reusing kept ones."""
    from bot.core import text
    from bot.core.triage import markers  # imported here: the triage package imports this module

    h = hashlib.blake2b(f"{sys.version}\x00{unicodedata.unidata_version}".encode())
    for module in (text, markers):
        h.update(Path(str(module.__file__)).read_bytes())
    return h.digest()


def folded_texts(
    kind: str, texts: list[str], fold: Callable[[str], str], fold_key: str
) -> list[str]:
    """`[fold(t) for t in texts]`, kept in the store as `kind` (bot.core.fitting.kept), keyed by
    the texts, `fold_key` (what `fold` reads besides the code: the lexicon) and the folding
    code itself."""
    h = hashlib.blake2b(b"folded texts+count\x00" + fold_key.encode() + _fold_code_digest(),
                        digest_size=16)
    for text in texts:
        h.update(text.encode())
        h.update(b"\x00")

    def compute() -> Arrays:
        # folded text has its whitespace folded to single spaces: no line break to pack
        return {"texts": pack_texts([fold(t) for t in texts]), "count": np.asarray([len(texts)])}

    arrays = kept(kind, h.hexdigest(), compute)
    try:
        return unpack_texts(arrays["texts"], int(arrays["count"][0]))
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):  # damaged, or a line break
        return [fold(text) for text in texts]
