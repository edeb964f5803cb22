"""Byte-pair encoding, from Sennrich et al. (2015) to GPT-2/GPT-4 byte-level BPE.

- `sennrich`: the paper's word-level BPE, identical to subword-nmt (`learn_bpe`, `BPE`, codes files).
- `BasicTokenizer`, `RegexTokenizer`: minbpe-style byte-level tokenizers you can train.
- `GPT2Tokenizer`, `GPT4Tokenizer`: OpenAI's published tokenizers, token for token as tiktoken.
"""

from .basic import BasicTokenizer
from .corpus import get_encoding
from .pretrained import GPT2Tokenizer, GPT4Tokenizer, bytes_to_unicode
from .regex_tokenizer import GPT2_SPLIT_PATTERN, GPT4_SPLIT_PATTERN, RegexTokenizer
from .sennrich import BPE, learn_bpe, read_codes, write_codes
from .training import train_incremental, train_recount

__all__ = [
    "BPE",
    "GPT2_SPLIT_PATTERN",
    "GPT4_SPLIT_PATTERN",
    "BasicTokenizer",
    "GPT2Tokenizer",
    "GPT4Tokenizer",
    "RegexTokenizer",
    "bytes_to_unicode",
    "get_encoding",
    "learn_bpe",
    "read_codes",
    "train_incremental",
    "train_recount",
    "write_codes",
]
