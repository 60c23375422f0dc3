"""The string literals of a source file, read from its syntax tree: the tests that hold a name
(a model, a task) to one home search the package's modules with it."""

import ast


def string_constants(path):
    """Every string literal of the module at ``path`` except docstrings (examples)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and id(n) not in docs]
