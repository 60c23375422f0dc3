"""The argument parser of minseq's command line and of the lesson scripts: argparse, stricter.

- No abbreviations: ``--epoch`` is not taken for ``--epochs`` (a flag means what it spells).
- A misspelled flag or value gets the closest one: ``--modle`` -> "did you mean --model?",
  ``--model lsmt`` -> "did you mean lstm?".
- Every error is one line, ``PROG: what is wrong``, and exit status 2; no usage block
  (``--help`` shows it).

    parser = ArgumentParser(prog="minseq")
    sub = parser.add_subparsers(dest="command", parser_class=ArgumentParser)
"""

import argparse
import difflib
import re

#: argparse's message for a value outside ``choices``; the choices are quoted or not, as the
#: Python version writes them
_INVALID_CHOICE = re.compile(r"argument (?P<name>.+?): invalid choice: '?(?P<value>.*?)'? "
                             r"\(choose from (?P<choices>.*)\)$")


def closest(word, candidates):
    """The candidate nearest ``word`` in spelling, or None when none is near."""
    found = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser without abbreviations, with suggestions and one-line errors."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unknown argument is reported by the (sub)command it was given
        to, with the closest of that command's flags."""
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            parser = self._chosen(namespace)
            flags = [a.split("=", 1)[0] for a in extras if a.startswith("-")]
            near = next((c for c in (closest(f, parser._option_string_actions) for f in flags)
                         if c), None)
            parser.error(f"unrecognized arguments: {' '.join(extras)}" +
                         (f" (did you mean {near}?)" if near else ""))
        return namespace

    def _chosen(self, namespace):
        """The deepest parser the command line chose: this one, or the subcommand's."""
        for action in self._actions:
            parsers = getattr(action, "choices", None)
            if isinstance(parsers, dict) and getattr(namespace, action.dest, None) in parsers:
                return parsers[getattr(namespace, action.dest)]._chosen(namespace)
        return self

    def error(self, message):
        """One line on stderr, ``PROG: MESSAGE``, and exit status 2."""
        self.exit(2, f"{self.prog}: {one_line(message)}\n")


def one_line(message):
    """argparse's error message as minseq says it: an invalid choice names the choices and the
    nearest one; "argument --x: ..." becomes "--x: ..."."""
    m = _INVALID_CHOICE.match(message)
    if m:
        choices = [c.strip().strip("'") for c in m["choices"].split(",")]
        near = closest(m["value"], choices)
        return (f"{m['name']}: invalid choice {m['value']!r}; choose from {', '.join(choices)}" +
                (f" (did you mean {near}?)" if near else ""))
    return message.removeprefix("argument ")
