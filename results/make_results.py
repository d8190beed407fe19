#!/usr/bin/python3
"""Writes RESULTS.md and its plots from the kept run directories.

    /usr/bin/python3 results/make_results.py              # results/ -> RESULTS.md, results/plots/
    /usr/bin/python3 results/make_results.py --runs DIR --out FILE --plots DIR

Every number comes from the files `secnn train` leaves in a run directory
(metrics.jsonl, events.jsonl, ladder.json, config.json, summary.json, and
ladder-finetuned.json from `secnn ladder RUN --finetune N`), so
the same directories give the same file, byte for byte: nothing here reads
the clock, and the plots carry no timestamp. Needs Debian's
python3-matplotlib.
"""
import argparse
import collections
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The SECNN paper's five CIFAR-10 trials (300 epochs on a GPU, validating on
# the test set): parameters at the first 70% and 80% test accuracy, best
# accuracy and the parameters at the best.
PAPER_TRIALS = [
    (13696, 27852, 0.834, 74564),
    (11360, 51880, 0.846, 73720),
    (11360, 22636, 0.846, 57808),
    (11360, 37320, 0.845, 66440),
    (9024, 28588, 0.832, 40960),
]
THRESHOLDS = (0.70, 0.80)


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def read_json(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


class Run:
    """One run directory, read once."""

    def __init__(self, root, relative):
        path = os.path.join(root, relative)
        self.name = relative
        self.config = read_json(os.path.join(path, "config.json"))
        if self.config is None:
            raise SystemExit(f"{path}: no config.json (is it a run of `secnn train`?)")
        self.metrics = read_lines(os.path.join(path, "metrics.jsonl"))
        if not self.metrics:
            raise SystemExit(f"{path}/metrics.jsonl: no epochs")
        self.events = read_lines(os.path.join(path, "events.jsonl"))
        # The growth rounds that applied a candidate (each names it as `choice`), oldest first.
        self.expansions = [e for e in self.events if e.get("outcome") == "expanded"]
        self.ladder = (read_json(os.path.join(path, "ladder.json")) or {}).get("rungs", [])
        self.finetuned = {r["rung"]: r for r in (read_json(os.path.join(path, "ladder-finetuned.json")) or {})
                          .get("rungs", [])}
        self.summary = read_json(os.path.join(path, "summary.json"))
        training = self.config["training"]
        self.on_test = any(key.startswith("test") for key in training["validation"])
        self.rule = os.path.basename(self.config["rule"].split(" ")[0]) if self.config.get("rule") else "—"
        # The random-candidate control in its two forms: uniform, or among candidates of the run's sizes.
        self.rule_label = self.rule + (" (same sizes)" if "sizes" in self.config.get("rule_args", {}) else "")
        self.seed = training["seed"]
        self.recipe = recipe(training)

    @property
    def epochs(self):
        return self.metrics[-1]["epoch"]

    def elapsed(self, row):
        """Wall time at the end of `row`'s epoch: elapsed_s, or the sum of epoch times without it."""
        if "elapsed_s" in row:
            return row["elapsed_s"]
        return sum(r["seconds"] for r in self.metrics if r["epoch"] <= row["epoch"])

    def first_reaching(self, threshold):
        return next((r for r in self.metrics if r["val_accuracy"] >= threshold), None)

    def best(self):
        return max(self.metrics, key=lambda r: (r["val_accuracy"], -r["epoch"]))

    def best_within(self, params):
        """The best validation accuracy of any epoch at which the model had at most `params` parameters."""
        within = [r["val_accuracy"] for r in self.metrics if r["params"] <= params]
        return max(within) if within else None

    def flops_of(self, params):
        """Multiply-adds per image of the model with `params` parameters: from the metrics rows (which
        carry it since secnn recorded it), else the ladder rungs or the summary."""
        for row in self.metrics:
            if row["params"] == params and "flops" in row:
                return row["flops"]
        for rung in self.ladder:
            if rung["parameters"] == params and "flops" in rung:
                return rung["flops"]
        if self.summary and self.summary.get("params") == params:
            return self.summary.get("flops")
        return None

    def architecture(self):
        """The final architecture: the start one with every expansion in events.jsonl applied."""
        blocks = [[int(n) for n in block.split("x")] for block in self.config["architecture"].split(",")]
        for choice in (event["choice"] for event in self.expansions):
            if choice["op"] == "layer":
                blocks[choice["block"]][1] += 1
            else:
                blocks[choice["block"]][0] += choice["channels"]
        return ",".join(f"{channels}x{layers}" for channels, layers in blocks)


# The paper's recipe: what a run's config.json must hold for its recipe to read "paper".
PAPER_RECIPE = {"batch_size": 512, "learning_rate": 0.002, "patience": 15, "l1": 1e-05}


def recipe(training):
    parts = [f"{name.replace('_', ' ')} {training[name]:g}" for name, value in PAPER_RECIPE.items()
             if name in training and training[name] != value]
    if training.get("crop_padding", 0):
        parts.append(f"crop {training['crop_padding']}")
    if training.get("label_smoothing", 0):
        parts.append(f"smoothing {training['label_smoothing']}")
    if training.get("schedule", "plateau") != "plateau":
        parts.append(training["schedule"])
    return ", ".join(parts) if parts else "paper"


def duration(seconds):
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes = int(round(seconds / 60))
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def number(value):
    return "—" if value is None else f"{value:,}"


def percent(value):
    return "—" if value is None else f"{100 * value:.1f}%"


def megaflops(flops):
    """Multiply-adds per image in millions (— where the run did not record them)."""
    return f"{flops / 1e6:.2f}" if flops else "—"


def discover(root):
    """Run directories under `root` (any depth), sorted: those holding a config.json."""
    found = []
    for directory, _, files in os.walk(root):
        if "config.json" in files and "metrics.jsonl" in files:
            found.append(os.path.relpath(directory, root))
    return sorted(found)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def paper_table(runs):
    header = ["run", "rule", "recipe", "seed", "validation", "epochs", "wall time",
              "params at first 70%", "time to 70%", "params at first 80%", "time to 80%",
              "best accuracy", "params at best", "test accuracy of best", "final architecture", "expansions"]
    rows = []
    for run in runs:
        planned = run.config["training"]["epochs"]
        epochs = run.epochs if run.epochs == planned else f"{run.epochs} of {planned} (unfinished)"
        cells = [f"`{run.name}`", run.rule_label, run.recipe, run.seed, "test set" if run.on_test else "held out",
                 epochs, duration(run.elapsed(run.metrics[-1]))]
        for threshold in THRESHOLDS:
            row = run.first_reaching(threshold)
            cells += [number(row and row["params"]), duration(row and run.elapsed(row))]
        best = run.best()
        # Validating on the test set, the best epoch's validation accuracy is its test accuracy.
        test = run.summary["test_accuracy"] if run.summary else best["val_accuracy"] if run.on_test else None
        cells += [percent(best["val_accuracy"]), number(best["params"]), percent(test),
                  f"`{run.architecture()}`", len(run.expansions)]
        rows.append(cells)
    return table(header, rows)


BUDGETS = (11360, 15000, 20000, 25000, 40000, 60000)


def budget_table(runs):
    """Best validation accuracy reached while the model had at most N parameters: runs compared at equal size."""
    header = ["run", "rule"] + [f"≤ {number(b)}" for b in BUDGETS]
    rows = []
    for run in runs:
        cells = [f"`{run.name}`", run.rule_label]
        for budget in BUDGETS:
            cells.append(percent(run.best_within(budget)))
        rows.append(cells)
    return table(header, rows)


def growth_vs_fixed(runs):
    """Each growth run beside the fixed-architecture runs (no rule) of its start or final architecture or of one
    of its ladder's rungs, with the same recipe and validation: growth against training the size it reached from
    scratch, and a rung against what its size can do. *Epochs at its size* says how long each model trained at
    the size shown; the last column is the grown side's accuracy (the run's best, or the rung's) less the fixed
    run's best, for a start or final architecture only when both ran the same epochs."""
    rows = []
    for grown in (r for r in runs if r.rule != "—"):
        start, final = grown.config["architecture"], grown.architecture()
        rungs = {rung["architecture"]: (index + 1, rung) for index, rung in enumerate(grown.ladder)}
        fixed = [r for r in runs if r.rule == "—" and r.recipe == grown.recipe and r.on_test == grown.on_test
                 and r.architecture() in {start, final} | set(rungs)]
        if not fixed:
            continue

        def epochs_at(params, until):
            return sum(1 for r in grown.metrics if r["params"] == params and r["epoch"] <= until)

        last = grown.metrics[-1]
        rows.append([f"`{grown.name}`", "grown", f"`{final}`", number(last["params"]), megaflops(grown.flops_of(last["params"])),
                     grown.epochs, epochs_at(last["params"], grown.epochs), percent(grown.best()["val_accuracy"]),
                     duration(grown.elapsed(last)), ""])
        for run in fixed:
            architecture = run.architecture()
            # A start or final architecture compares at equal epochs; a rung with what its size can do.
            grown_accuracy, comparable = grown.best()["val_accuracy"], run.epochs == grown.epochs
            if architecture == start:
                role = "its start architecture"
            elif architecture == final:
                role = "its final architecture"
            else:
                number_of_rung, rung = rungs[architecture]
                role = f"its rung {number_of_rung}'s architecture"
                grown_accuracy, comparable = rung["validation_accuracy"], True
                at = next(r for r in grown.metrics if r["epoch"] == rung["epoch"])
                rows.append([f"`{grown.name}`", f"rung {number_of_rung}", f"`{architecture}`", number(rung["parameters"]),
                             megaflops(grown.flops_of(rung["parameters"])), rung["epoch"],
                             epochs_at(rung["parameters"], rung["epoch"]), percent(rung["validation_accuracy"]),
                             duration(grown.elapsed(at)), ""])
            last = run.metrics[-1]
            best = run.best()["val_accuracy"]
            rows.append([f"`{run.name}`", role, f"`{architecture}`", number(last["params"]), megaflops(run.flops_of(last["params"])),
                         run.epochs, run.epochs, percent(best), duration(run.elapsed(last)),
                         f"{100 * (grown_accuracy - best):+.1f}" if comparable else "—"])
    if not rows:
        return None
    return table(["run", "role", "architecture", "params", "MFLOPs", "epochs", "epochs at its size", "best accuracy",
                  "wall time", "grown less fixed (points)"], rows)


def seed_groups(runs):
    """Runs that differ only in their seed, gathered: the spread between seeds is the yardstick for every
    other difference (a rule against the random-candidate control, diagonal against K-FAC)."""
    groups = {}
    for run in runs:
        # Without a rule, runs of different architectures are different experiments, not seeds.
        rule = run.rule_label if run.rule != "—" else f"none (`{run.config['architecture']}`)"
        key = (rule, run.recipe, run.on_test, run.config["training"]["epochs"])
        groups.setdefault(key, []).append(run)
    if not any(len(group) > 1 for group in groups.values()):
        return None
    rows = []
    for (rule, recipe_name, on_test, epochs), group in groups.items():
        bests = [run.best()["val_accuracy"] for run in group]
        finals = [run.metrics[-1]["params"] for run in group]
        mean = sum(bests) / len(bests)
        rows.append([rule, recipe_name, "test set" if on_test else "held out", epochs,
                     ", ".join(f"{run.seed}" for run in group), ", ".join(percent(b) for b in bests), percent(mean),
                     f"{100 * (max(bests) - min(bests)):.1f}", number(round(sum(finals) / len(finals)))])
    return table(["rule", "recipe", "validation", "epochs", "seeds", "best accuracy", "mean",
                  "spread (points)", "mean final params"], rows)


def against_chance(runs):
    """Each random-candidate control (random.lua, growing at the epochs another run of the same seed grew at)
    beside the run whose epochs it copied: whether the scores chose better than chance, seed by seed, overall
    and at equal size (the best accuracy of any epoch at which each model had at most the smaller of the two
    final sizes)."""
    rows, differences = [], {}
    for control in (r for r in runs if r.rule == "random.lua"):
        copied = [int(e) for e in str(control.config["rule_args"].get("epochs", "")).split(",") if e]
        scored = [r for r in runs if r is not control and r.rule != "random.lua" and r.seed == control.seed
                  and r.config["training"]["epochs"] == control.config["training"]["epochs"] and r.recipe == control.recipe
                  and [e["epoch"] for e in r.expansions] == copied]
        if not scored:
            continue
        kind = "same sizes" if "sizes" in control.config["rule_args"] else "uniform"
        cells = [control.seed]
        for run in (scored[0], control):
            final = run.metrics[-1]["params"]
            cells += [f"`{run.name}` ({run.rule})" if run is not control else f"`{run.name}` ({kind})",
                      percent(run.best()["val_accuracy"]), number(final), megaflops(run.flops_of(final))]
        size = min(scored[0].metrics[-1]["params"], control.metrics[-1]["params"])
        equal = [scored[0].best_within(size), control.best_within(size)]
        best = 100 * (scored[0].best()["val_accuracy"] - control.best()["val_accuracy"])
        at_size = 100 * (equal[0] - equal[1]) if None not in equal else None
        differences.setdefault(kind, []).append((best, at_size))
        cells += [number(size), percent(equal[0]), percent(equal[1]), f"{best:+.1f}",
                  f"{at_size:+.1f}" if at_size is not None else "—"]
        rows.append(cells)
    if not rows:
        return None
    for kind, pairs in sorted(differences.items()):
        sizes = [d for _, d in pairs if d is not None]
        rows.append([f"mean ({kind})"] + [""] * 11 + [f"{sum(b for b, _ in pairs) / len(pairs):+.1f}",
                                                      f"{sum(sizes) / len(sizes):+.1f}" if sizes else "—"])
    return table(["seed", "scored run", "best", "final params", "MFLOPs", "random control", "best", "final params",
                  "MFLOPs", "equal size", "scored, at equal size", "control, at equal size",
                  "difference in best (points)", "difference at equal size (points)"], rows)


# kfac.lua is paper.lua's policy on the K-FAC score: the pair differs only in how η is computed.
KFAC_COUNTERPART = {"kfac.lua": "paper.lua"}


def score_method(run):
    """"diag" or "kfac": how the run's rule scored candidates, as events.jsonl records it."""
    return next((e["scores"]["method"] for e in run.events if "scores" in e), None)


def best_candidates(run):
    """{epoch: the candidate with the highest ratio over η_c} for every epoch the run scored."""
    best = {}
    for event in run.events:
        if "scores" in event and event.get("ratios"):
            ratios = event["ratios"]
            best[event["epoch"]] = event["scores"]["candidates"][ratios.index(max(ratios))]["candidate"]
    return best


def choice_label(choice):
    return f"layer {choice['block']}" if choice["op"] == "layer" else f"+{choice['channels']} ch {choice['block']}"


def kind_label(candidate):
    """A candidate by what it does and where, whatever its size: `layer 0`, `widen 2`."""
    return f"{candidate['op']} {candidate['block']}"


def counted(labels):
    """`label: count` for each label, the most frequent first (ties by label)."""
    counts = collections.Counter(labels)
    return ", ".join(f"{label}: {n}" for label, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def score_preferences(runs):
    """For each run that scored candidates: which kind of candidate had the highest η/η_c at each scored
    epoch, against what the rule applied, so that a systematic preference of the score shows apart from
    the rule's pricing and thresholds."""
    rows = []
    for run in runs:
        firsts = best_candidates(run)
        if not firsts:
            continue
        applied = [kind_label(e["choice"]) for e in run.expansions]
        rows.append([f"`{run.name}`", run.rule_label, score_method(run), len(firsts),
                     counted(kind_label(c) for c in firsts.values()), counted(applied) or "—"])
    if not rows:
        return None
    return table(["run", "rule", "score", "scored epochs", "ranked first by η/η_c (epochs)", "applied (expansions)"],
                 rows)


def diag_vs_kfac(runs):
    """Each K-FAC run beside the diagonal run with the same policy, seed, recipe and epochs: which candidates
    each score put first, what each grew, and the accuracy each reached at equal size."""
    rows = []
    for kfac in (r for r in runs if r.rule in KFAC_COUNTERPART and score_method(r) == "kfac"):
        diag = next((r for r in runs if r.rule == KFAC_COUNTERPART[kfac.rule] and score_method(r) == "diag"
                     and r.seed == kfac.seed and r.recipe == kfac.recipe and r.on_test == kfac.on_test
                     and r.config["training"]["epochs"] == kfac.config["training"]["epochs"]
                     and r.config.get("rule_args") == kfac.config.get("rule_args")), None)
        if diag is None:
            continue
        firsts = [best_candidates(run) for run in (diag, kfac)]
        shared = sorted(set(firsts[0]) & set(firsts[1]))
        agreeing = sum(1 for epoch in shared if firsts[0][epoch] == firsts[1][epoch])
        size = min(diag.metrics[-1]["params"], kfac.metrics[-1]["params"])
        for run in (diag, kfac):
            grown = ", ".join(f"{e['epoch']}: {choice_label(e['choice'])}" for e in run.expansions)
            rows.append([kfac.seed, f"`{run.name}`", score_method(run), grown or "—", f"{agreeing} of {len(shared)}",
                         number(run.metrics[-1]["params"]), percent(run.best()["val_accuracy"]), number(size),
                         percent(run.best_within(size))])
    if not rows:
        return None
    return table(["seed", "run", "score", "expansions (epoch: candidate, block)", "same first candidate",
                  "final params", "best accuracy", "equal size", "best at equal size"], rows)


def commands(runs):
    """How each run was started: its command line as config.json keeps it (the binary shown as `secnn`), and
    the checksum of the rule's source (a stock rule changes between versions; the run's rule.lua is kept)."""
    rows = []
    for run in runs:
        arguments = run.config["command_line"][1:]
        checksum = run.config.get("rule_checksum")
        rows.append([f"`{run.name}`", "`secnn " + " ".join(arguments) + "`", f"`{checksum[:8]}`" if checksum else "—"])
    return table(["run", "command", "rule checksum"], rows)


def ladder_tables(runs):
    sections = []
    for run in runs:
        if not run.ladder:
            continue
        header = ["rung", "params", "MFLOPs", "architecture", "epoch", "val accuracy", "test accuracy"]
        rows = [[i + 1, number(r["parameters"]), megaflops(r.get("flops")),
                 f"`{r['architecture']}`", r["epoch"], percent(r["validation_accuracy"]), percent(r["test_accuracy"])]
                for i, r in enumerate(run.ladder)]
        if run.finetuned:
            epochs = next(iter(run.finetuned.values()))["epochs"]
            header += [f"val after {epochs} more epochs", "test after"]
            for i, row in enumerate(rows):
                tuned = run.finetuned.get(i + 1)
                row += [percent(tuned and tuned["validation_accuracy"]), percent(tuned and tuned["test_accuracy"])]
        sections.append(f"**`{run.name}`**\n\n" + table(header, rows))
    return "\n\n".join(sections)


def plots(runs, directory, prefix):
    """Accuracy against parameters and against MFLOPs: each run's ladder (best accuracy at each size)."""
    os.makedirs(directory, exist_ok=True)
    written = []
    for axis, label in (("params", "parameters"), ("flops", "multiply-adds per image (millions)")):
        figure, ax = plt.subplots(figsize=(8, 5), dpi=100)
        # A colour per run (tab20 has twenty), and the controls dashed so that the rules' runs stand out.
        colours = plt.get_cmap("tab20" if len(runs) > 10 else "tab10")
        for index, run in enumerate(runs):
            points = size_points(run, axis)
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="o", markersize=3, linewidth=1, label=run.name, color=colours(index % 20),
                        linestyle="--" if run.rule == "random.lua" else "-")
        if axis == "params" and prefix == "cifar10":
            for trial, (p70, p80, best, p_best) in enumerate(PAPER_TRIALS):
                ax.scatter([p70, p80, p_best], [0.70, 0.80, best], marker="x", color="black",
                           label="paper's trials (first 70%, 80%, best)" if trial == 0 else None)
        ax.set_xlabel(label)
        ax.set_ylabel("best validation accuracy at this size")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        name = f"{prefix}-accuracy-vs-{axis}.png"
        figure.tight_layout()
        figure.savefig(os.path.join(directory, name), metadata={"Software": None})
        plt.close(figure)
        written.append(name)
    return written


def size_points(run, axis):
    """(size, best validation accuracy while the model had that size), in order of growth."""
    best_at = {}
    for row in run.metrics:
        best_at[row["params"]] = max(best_at.get(row["params"], 0), row["val_accuracy"])
    points = []
    for params, accuracy in best_at.items():
        x = params if axis == "params" else run.flops_of(params)
        if x is not None:
            points.append((x if axis == "params" else x / 1e6, accuracy))
    return points


def document(root, runs_by_dataset, plot_directory, out_path):
    lines = [
        "# Results",
        "",
        "Generated by `/usr/bin/python3 results/make_results.py` from the run directories under "
        "`results/` (their metrics, events, ladder, configuration and summary; no checkpoints). "
        "Do not edit by hand: regenerate.",
        "",
        "The CIFAR-10 copy these runs use is rebuilt from a JPEG (quality 75) recompression of the "
        "original images, so accuracies may be a point or two below what the same runs reach on the "
        "original CIFAR-10.",
        "",
        "Columns: *params at first 70%* is the model's size at the first epoch whose validation accuracy "
        "reached 70% (with `validation` = test set, the paper's protocol, that is test accuracy); *time* is "
        "wall time on the 2-core machine since the run started, scoring included. *Test accuracy of best* "
        "is the test accuracy of the checkpoint chosen on validation accuracy.",
        "",
        "## The paper's CIFAR-10 table (5 trials, 300 epochs on a GPU)",
        "",
        table(["trial", "params at first 70%", "params at first 80%", "best accuracy", "params at best"],
              [[i + 1, number(a), number(b), percent(c), number(d)] for i, (a, b, c, d) in enumerate(PAPER_TRIALS)]),
    ]
    for dataset, runs in runs_by_dataset:
        lines += ["", f"## {dataset}", "", paper_table(runs), "",
                  f"### Best accuracy within a parameter budget ({dataset})", "",
                  "The best validation accuracy of any epoch at which the model had at most that many parameters.", "",
                  budget_table(runs)]
        comparison = growth_vs_fixed(runs)
        if comparison:
            lines += ["", f"### Growth against fixed architectures ({dataset})", "",
                      "Each growth run beside the runs without a rule of its start or final architecture, or of one "
                      "of its rungs, trained from scratch with the same recipe. A rung's row is the growth run at the "
                      "rung's epoch: *epochs* is that epoch, *best accuracy* the rung's validation accuracy. *Epochs at its size*: "
                      "how many of those epochs the model had the size shown (a grown model spends its first epochs "
                      "smaller). *Grown less fixed*: the grown side's accuracy (the run's best, or the rung's) less the "
                      "fixed run's best (for a start or final architecture only at equal epochs); negative where training the "
                      "architecture from scratch did better.", "",
                      comparison]
        groups = seed_groups(runs)
        if groups:
            lines += ["", f"### Seeds ({dataset})", "",
                      "Runs that differ only in their seed, side by side. A difference between rules counts "
                      "only where it exceeds the spread between seeds.", "", groups]
        chance = against_chance(runs)
        if chance:
            lines += ["", f"### Scores against chance ({dataset})", "",
                      "Each run beside its control: `results/rules/random.lua`, growing at the same epochs (its "
                      "`epochs` setting copied from the run's events.jsonl) by a candidate drawn at random from the "
                      "same candidate set, with the same seed and recipe: *uniform* draws among all candidates, *same sizes* "
                      "among those adding between half and twice the parameters the run's expansion added (its "
                      "`sizes` setting), so that both runs grow alike and differ in where. "
                      "*Best* is the best validation accuracy; "
                      "*at equal size* the best of any epoch at which the model had at most the smaller final size "
                      "of the two (which favours the run that stayed at or below that size for more epochs: a "
                      "random pick is often a cheaper candidate, so the two runs end at different sizes). The scores "
                      "choose better than chance where the differences exceed the spread between seeds (the Seeds "
                      "table).", "", chance]
        preferences = score_preferences(runs)
        if preferences:
            lines += ["", f"### What the scores rank first ({dataset})", "",
                      "At each epoch a run scored its candidates, the kind of candidate (a layer or a widening, "
                      "and its block) with the highest η/η_c, counted over the run; beside it what the rule "
                      "applied. The rules price candidates (by size, compute or a threshold) before applying one, "
                      "so the two columns differ; the first shows what the score alone prefers.", "", preferences]
        kfac = diag_vs_kfac(runs)
        if kfac:
            lines += ["", f"### Diagonal against K-FAC ({dataset})", "",
                      "`kfac.lua` is `paper.lua`'s policy on the K-FAC score; each K-FAC run beside the diagonal "
                      "run with the same seed, recipe and epochs. *Same first candidate*: at how many of the epochs "
                      "both runs scored the two scores put the same candidate first (each ranking its own model: "
                      "after the runs' first different decision the models differ). *Best at equal size*: the best "
                      "validation accuracy of any epoch at which the model had at most the smaller final size of "
                      "the two.", "", kfac]
        lines += ["", f"### Commands ({dataset})", "",
                  "An unfinished run continues with `secnn train --resume DIR` (DIR: the `--out` directory).", "",
                  commands(runs)]
        ladders = ladder_tables(runs)
        if ladders:
            lines += ["", f"### Ladders ({dataset})", "", ladders]
        names = plots(runs, plot_directory, dataset)
        relative = os.path.relpath(plot_directory, os.path.dirname(os.path.abspath(out_path)) or ".")
        lines += [""] + [f"![{name}]({relative}/{name})" for name in names]
    return "\n".join(lines) + "\n"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=here, help="folder of DATASET/RUN directories (default: results/)")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(here), "RESULTS.md"))
    parser.add_argument("--plots", default=os.path.join(here, "plots"))
    args = parser.parse_args()
    runs_by_dataset = []
    datasets = [d for d in os.listdir(args.runs) if os.path.isdir(os.path.join(args.runs, d))]
    for dataset in sorted(datasets):
        names = discover(os.path.join(args.runs, dataset))
        if names:
            runs_by_dataset.append((dataset, [Run(os.path.join(args.runs, dataset), n) for n in names]))
    if not runs_by_dataset:
        sys.exit(f"{args.runs}: no run directories (DATASET/RUN/config.json)")
    text = document(args.runs, runs_by_dataset, args.plots, args.out)
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out} and {args.plots}/")


if __name__ == "__main__":
    main()
