"""pipeline/ is pure: it never imports faust or aiokafka (nor agents/)."""

import ast
from pathlib import Path

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
FORBIDDEN = ("faust", "aiokafka", "agents", "mode")


def test_pipeline_never_imports_the_stream_engine():
    offenders = []
    for path in PIPELINE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN:
                    offenders.append(f"{path.relative_to(PIPELINE.parent)}: {name}")
    assert offenders == []
