"""`pimc search`: bad input is one line and exit 2, before any training starts."""

import pytest
from search_helpers import pimc


@pytest.fixture()
def ok_args(movielens, tmp_path):
    return {"--space": "tiny", "--data": f"movielens:{movielens}", "--target": "isaac",
            "--budget": "2", "-o": str(tmp_path / "out")}


def _run(args: dict, tmp_path, hw_text=None):
    if hw_text is not None:
        (tmp_path / "hw.yaml").write_text(hw_text)
        args = {**args, "--hw-space": str(tmp_path / "hw.yaml")}
    flat = [x for kv in args.items() for x in kv]
    return pimc("search", *flat, timeout=120)


@pytest.mark.parametrize("change, hw_text, expect", [
    ({"--space": "nasrek"}, None, "unknown search space 'nasrek'"),
    ({"--data": "movielens:/no/such/dir"}, None, "/no/such/dir"),
    ({"--target": "isaak"}, None, "unknown target 'isaak'"),
    ({}, "chip.tile.pe.array.rowz: [64]\n", "no field 'rowz'"),
    ({}, "chip.tile.pe.adc.resolution: [0]\n", "resolution = 0"),
    ({"--objectives": "logloss,speed"}, None, "objective(s) speed"),
    ({"--strategy": "annealing"}, None, "unknown strategy 'annealing'"),
    ({"--placement": "ilp"}, None, "placement 'ilp'"),
    ({"--loop-check": "always"}, None, "loop check 'always'; accepted: none, final, full"),
    ({"--final-train-steps": "-1"}, None, "--final-train-steps -1; accepted: a number of"),
    ({"--zoo-steps": "-5"}, None, "--zoo-steps -5; accepted"),
    ({"--finetune-what": "body"}, None, "fine-tune weights 'body'; accepted: head, all"),
])
def test_bad_input_is_one_line_and_exit_2_before_training(ok_args, tmp_path, change, hw_text,
                                                          expect):
    res = _run({**ok_args, **change}, tmp_path, hw_text)
    assert res.returncode == 2, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and expect in lines[0], res.stderr
    assert "training" not in res.stdout  # nothing was trained
    assert not (tmp_path / "out" / "supernet.pt").exists()


def test_resume_of_a_folder_without_a_study(tmp_path):
    res = pimc("search", "--resume", "-o", str(tmp_path), timeout=60)
    assert res.returncode == 2 and "not a search folder" in res.stderr


def test_a_second_start_in_the_same_folder_is_refused(ok_args, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "config.json").write_text("{}")
    res = _run(ok_args, tmp_path)
    assert res.returncode == 2 and "--resume" in res.stderr


def test_the_loop_accepts_the_fine_tunes_the_trainer_has():
    """search.evaluate names the fine-tune choices without importing torch; they must be the
    trainer's own."""
    from frontend.supernet.train import FINETUNE_WEIGHTS
    from search.evaluate import FINETUNE_WEIGHTS as LOOP

    assert LOOP == FINETUNE_WEIGHTS
