from pathlib import Path

DATA_DIR = Path(__file__).parent
DEFAULT_PLAN = DATA_DIR / "plan-71.yaml"
DEMO_PEOPLE = DATA_DIR / "demo-people.csv"
DEMO_WEEK = DATA_DIR / "demo-week.yaml"
