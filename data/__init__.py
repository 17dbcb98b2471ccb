from pathlib import Path

DATA_DIR = Path(__file__).parent
DEFAULT_PLAN = DATA_DIR / "plan-71.yaml"
