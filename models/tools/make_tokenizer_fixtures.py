#!/usr/bin/env python3
"""Writes Hugging Face `tokenizers` reference encodings for BpeFixturesTest.

Run where the Python `tokenizers` package is installed (never in CI):

    pip install tokenizers
    python models/tools/make_tokenizer_fixtures.py [--gpt2 PATH/tokenizer.json] [--llama3 PATH/tokenizer.json]

It trains two small byte-level BPE tokenizers on a built-in corpus -- one with GPT-2's
ByteLevel(use_regex=True) pre-tokenizer, one with Llama 3's Split regex + ByteLevel(use_regex=False)
and ignore_merges -- encodes with the `tessera-*.tokenizer.json` files that Tessera's own trainer
wrote there (`tessera tokenizer train --data CORPUS --vocab-size 700 --pattern gpt2|llama3`), optionally
copies real tokenizer.json files given on the command line, and for each writes into models/src/test/resources/tokenizer-fixtures/:

    NAME.tokenizer.json   the tokenizer, as saved by `tokenizers`
    NAME.cases.json       {"tokenizer": "NAME.tokenizer.json", "cases": [{"text": ..., "ids": [...]}]}

with ids from `Tokenizer.encode(text, add_special_tokens=False).ids`. The Java test loads each
tokenizer.json with TokenizerJson and requires identical ids.
"""
import argparse
import json
import pathlib
import random
import shutil

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

OUT = pathlib.Path(__file__).resolve().parent.parent / "src" / "test" / "resources" / "tokenizer-fixtures"

LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
                  r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CORPUS = [
    "The quick brown fox jumps over the lazy dog. It's 2024, and we're testing tokenizers!",
    "Byte-pair encoding merges the most frequent pair of symbols, again and again.",
    "def merge(pair, word):\n    return [a + b for a, b in zip(word, word[1:])]\n",
    "for (int i = 0; i < n; i++) {\n\tsum += x[i] * 31;\n}\n",
    "Unicode: café, naïve, über, 日本語のテキスト, тест, 한국어, العربية, 😀👍🏽 👩‍👩‍👧 🇫🇷",
    "Numbers 1 12 123 1234 12345 3.14159 1,000,000 0x7fff and   spaces\t\ttabs\n\n\nnewlines",
    "I'M SHOUTING, you're whispering; they'll listen. She'd've gone.",
] * 20

TEXTS = [
    "", "hello world", "Hello, World!", "It's 2024 and we're here; they'll see I'D know.",
    "   leading spaces", "trailing spaces   ", "a  b   c    d", "tabs\tand\nnewlines\r\n\r\nend",
    "\u00a0non-breaking\u3000ideographic\u2028line-separator",
    "1 12 123 1234 12345 123456 1234567", "3.14159 -42 +7 1e-9 0x1F",
    "café naïve über résumé", "日本語のテキスト 中文 한국어 العربية עברית", "emoji 😀👍🏽 👩‍👩‍👧 🇫🇷 🏳️‍🌈",
    "def f(x):\n    return x ** 2  # square\n", "if (a != b && c <= d) { x->y = \"s\\n\"; }",
    "never seen: ꙮ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U0001F9EC", "mixed<|endoftext|>special<|endoftext|>",
    "x" * 300, " " * 50 + "y",
]

# Fuzz cases: seeded random mixtures of the pieces the pre-tokenizer regexes treat differently
# (letters of several scripts, digits, punctuation, contractions, every whitespace kind, emoji with
# modifiers and joiners, unassigned-looking code points, the special token).
PIECES = ["a", "Z", "é", "ß", "日", "本", "ж", "ك", "א", "한", "0", "7", "42", "1234", ".", ",", "!", "?",
          "'s", "'T", "'re", "'VE", "'m", "'ll", "'d", "'x", "-", "_", "(", ")", "{", "}", "\"", "#", "=>",
          " ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2028", "\u200b",
          "😀", "👍🏽", "👩‍👩‍👧", "🇫🇷", "\U0001F9EC", "ꙮ", "𝔘", "<|endoftext|>", "the", " the", "ing", "tion"]


def fuzz_texts(count, seed=1234):
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def train(name, pre_tokenizer, ignore_merges):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=600, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    tok.save(str(OUT / f"{name}.tokenizer.json"))
    return tok


def write_cases(name, tok):
    cases = [{"text": t, "ids": tok.encode(t, add_special_tokens=False).ids} for t in TEXTS + fuzz_texts(300)]
    (OUT / f"{name}.cases.json").write_text(
        json.dumps({"tokenizer": f"{name}.tokenizer.json", "cases": cases}, ensure_ascii=False, indent=1) + "\n",
        encoding="utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpt2", help="a GPT-2 tokenizer.json to copy and encode with")
    ap.add_argument("--llama3", help="a Llama 3 tokenizer.json to copy and encode with")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    gpt2 = train("trained-gpt2", pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True), False)
    write_cases("trained-gpt2", gpt2)
    llama = train("trained-llama3", pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)]), True)
    write_cases("trained-llama3", llama)
    # tokenizer.json files written by Tessera's own trainer (`tessera tokenizer train`): loading them
    # here proves the Hugging Face library reads what we write, and their cases prove we encode alike.
    for path in sorted(OUT.glob("tessera-*.tokenizer.json")):
        write_cases(path.name.removesuffix(".tokenizer.json"), Tokenizer.from_file(str(path)))
    for name, path in (("gpt2", args.gpt2), ("llama3", args.llama3)):
        if path:
            shutil.copyfile(path, OUT / f"{name}.tokenizer.json")
            write_cases(name, Tokenizer.from_file(path))
    print(f"wrote fixtures to {OUT}")


if __name__ == "__main__":
    main()
