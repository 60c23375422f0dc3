# %%
"""Churn prediction: labels by hand, an LSTM against recency, the ROC curve and a leaking cut.

Document 000 (§5.2) flags a user whose activity fades, so the platform can react in time;
documents 001 (§3.4, §6) and 003 (§6.2) list churn among the uses of behaviour sequences. Here:
churn labels built by hand on a tiny log (one calendar grid of cut times, features before the
cut, the label from the D days after it), an LSTM trained against the recency baseline on the
generated log (whose fading users slow down before they leave), the ROC curve of both, and the
AUC a leaking cut time would report, computed and labelled as wrong.
"""

import matplotlib.pyplot as plt
import numpy as np

from minseq import backend, metrics, tasks
from minseq.data import from_columns
from minseq.data.churn import age_bucket, churn_windows
from minseq.data.events import behaviour_vocab
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support.notebook import conclude
from minseq.tasks import next_behaviour

from helpers import EVENTS, behaviour_log, run_probabilities

DAY = 86400
#: the users taken from the lessons' behaviour log, and the LSTM, per mode (--fast runs in
#: seconds)
SIZES = {"fast": dict(users=600, epochs=4, maxlen=12, d_model=16),
         "default": dict(users=1000, epochs=5, maxlen=16, d_model=32),
         "full": dict(users=2000, epochs=10, maxlen=20, d_model=32)}


def tiny_log():
    """Two users over ten days: Ann visits on days 0, 1 and 5, Bob on days 0, 9 and 10."""
    events = [("ann", 0.2, 1), ("ann", 1.5, 2), ("ann", 5.1, 5), ("bob", 0.1, 1), ("bob", 9.0, 1),
              ("bob", 10.0, 3)]
    user, day, behaviour = zip(*events)
    return from_columns(user=user, item=np.ones(len(user)), behaviour=behaviour,
                        timestamp=(np.array(day) * DAY).astype(np.int64),
                        behaviour_names=behaviour_vocab(EVENTS), meta={"time_unit": "s"})


def by_hand(log, days):
    """(user, cut day, label) for every active user at every cut of the grid, in plain loops."""
    first, last = log.timestamp.min(), log.timestamp.max()
    rows = []
    for u in range(1, log.n_users + 1):
        times = log.timestamp[log.user_events(u)]
        for cut in range(first + DAY, last - days * DAY + 1, DAY):
            if any(cut - days * DAY <= t < cut for t in times):              # active at the cut
                churned = not any(cut <= t < cut + days * DAY for t in times)
                rows.append((u, (cut - first) // DAY, int(churned)))
    return rows


def leaked_recency(table, w, days):
    """Days since the last event, read at cut + D instead of at the cut: WRONG on purpose."""
    span = int(table.timestamp.max() - table.timestamp.min()) + 1
    key = (table.user - 1) * span + (table.timestamp - table.timestamp.min())
    late = w.cut + days * DAY
    last = np.searchsorted(key, (w.user - 1) * span + (late - table.timestamp.min())) - 1
    return (late - table.timestamp[last]) / DAY


def grade_labels(L, churn_labels):
    """Exercise 1: the student's examples and labels against the lesson's by-hand loops on the
    tiny log (D = 1, 2, 3 days), then against minseq's churn_windows on a generated log."""
    log = tiny_log()
    first = log.timestamp.min()
    for days in (2, 1, 3):
        user, cut, label = churn_labels(log, days)
        rows = [(int(u), int((c - first) // DAY), int(y)) for u, c, y in zip(user, cut, label)]
        expected = by_hand(log, days)
        L.check(f"tiny log, D = {days}: the (user, cut day, label) of the by-hand loops",
                rows == expected, f"{len(rows)} examples, {len(expected)} expected")
    table = behaviour_log(40)                        # the first 40 users of the lessons' log
    user, cut, label = churn_labels(table, 7)
    w = churn_windows(table, 1, 7)
    for name, ours, theirs in (("users", user, w.user), ("cut times", cut, w.cut),
                               ("labels", label, w.targets)):
        L.check(f"generated log, D = 7: the {name} of churn_windows",
                np.array_equal(ours, theirs), f"{len(ours)} examples, {len(theirs)} expected")


def grade_recency(L, recency):
    """Exercise 2: the student's recency against loops over the tiny log and an event exactly
    at a cut; on a generated log, its range, the age bucket the Recency baseline reads, and
    its AUC against the leaking cut's."""
    log = tiny_log()
    w = churn_windows(log, 3, 2)
    expected = [(c - max(t for t in log.timestamp[log.user_events(u)] if t < c)) / DAY
                for u, c in zip(w.user, w.cut)]
    L.check_close("tiny log: days from each user's last event before the cut",
                  recency(log, w.user, w.cut), np.array(expected), rtol=1e-12)
    on_cut = from_columns(user=[1, 1, 1], item=np.ones(3), behaviour=[1, 1, 1],
                          timestamp=np.array([0, 2 * DAY, 3 * DAY]),
                          behaviour_names=behaviour_vocab(EVENTS), meta={"time_unit": "s"})
    L.check_close("an event at the cut is not before it: 2 days, not 0",
                  recency(on_cut, np.array([1]), np.array([2 * DAY])), np.array([2.0]))
    D = 7
    table = behaviour_log(60)
    w = churn_windows(table, 1, D)
    r = recency(table, w.user, w.cut)
    L.check("every active user's recency lies in (0, D]", np.all((r > 0) & (r <= D)),
            f"from {r.min():.3g} to {r.max():.3g} days")
    L.check("its age bucket is the one the Recency baseline reads",
            np.array_equal(age_bucket(np.rint(r * DAY), DAY), w.inputs[:, -1, 1]))
    honest = metrics.roc_auc(w.targets, r)
    leaked = metrics.roc_auc(w.targets, leaked_recency(table, w, D))
    L.check("recency ranks churners above chance", honest > 0.5, f"AUC {honest:.3f}")
    L.check("the leaking cut (c + D) inflates the AUC above yours", leaked > honest,
            f"{leaked:.3f} against {honest:.3f}")


EXERCISES = [
    Exercise("churn_labels", "Write the churn examples of a log: the grid of cut times, the "
             "users active at each cut, and their labels from the D days after it.",
             grade_labels,
             reference=["minseq.data.churn.churn_windows"]),
    Exercise("recency", "Write the recency baseline's feature: the days from each user's last "
             "event strictly before the cut, reading nothing at or after it.", grade_recency,
             reference=["minseq.data.churn.churn_windows"])]


# %%
L = Lesson(__file__, "Churn prediction: labels, an LSTM against recency, ROC and a leak",
           ids=["B6"], goals=[
               "build churn labels by hand: cut times, active users, D silent days",
               "keep every feature before its cut (and test that it is so)",
               "train an LSTM over [behaviour, age] events against days-since-last-event",
               "read a ROC curve, and see why a leaking cut time inflates the AUC"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))
size = SIZES["fast" if L.fast else "full" if L.full else "default"]
D = 2


# %% [markdown]
# ### Churn labels by hand on a tiny log

# %%
with L.step("Churn labels by hand on a tiny log", formula=f"""
cuts c = first time + 1, 2, ... days, while c + D days <= last time   (D = {D})
active at c:  the user has an event in [c - D, c)
label:        1 (churn) if the user has NO event in [c, c + D), else 0
features:     the user's events with time < c, nothing later"""):
    log = tiny_log()
    for u, name in enumerate(log.user_vocab[1:], 1):
        days = np.round(log.timestamp[log.user_events(u)] / DAY, 1)
        print(f"    {name}: events on days {days}")
    rows = by_hand(log, D)
    print(f"    {'user':<6}{'cut day':>8}{'churn':>7}")
    for u, day, y in rows:
        print(f"    {log.user_vocab[u]:<6}{day:>8}{y:>7}")
    w = churn_windows(log, maxlen=3, days=D)
    ours = [(int(u), int((c - log.timestamp.min()) // DAY), int(y))
            for u, c, y in zip(w.user, w.cut, w.targets)]
    L.check("minseq.data.churn.churn_windows gives the same labels", ours == rows)
    L.say("Bob is silent from day 1 to day 9: at cuts 1 and 2 he is active (day 0 lies in "
          "the last two days) and churns; from cut 3 on he is no longer active, so he gives "
          "no example until he returns.")
    span = float(log.timestamp.max() - log.timestamp.min()) / DAY
    last_cut = int(span - D)                   # the largest whole c with c + D <= span
    empty = sorted(set(range(1, last_cut + 1)) - {day for _, day, _ in rows})
    L.say(f"The log spans {span:.1f} days, so the grid makes cuts 1 to {last_cut} (cut "
          f"{last_cut} reads days {last_cut} to {last_cut + D}); cut {last_cut + 1} would need "
          f"day {last_cut + 1 + D}, past the log's end, so it cannot know its label and is not "
          "made." + (f" Cut(s) {', '.join(map(str, empty))} have no active user, so no row."
                     if empty else ""))
    latest = max(c for _, c, _ in ours)
    L.check(f"churn_windows makes no cut after day {last_cut}", latest <= last_cut,
            f"latest cut day {latest}")

table = behaviour_log(size["users"])


# %% [markdown]
# ### Windows on the behaviour log: nothing at or after the cut

# %%
with L.step("Windows on the behaviour log: nothing at or after the cut"):
    L.say(f"The behaviour log of the earlier lessons (helpers.behaviour_log), its first "
          f"{size['users']} users (--fast takes {SIZES['fast']['users']}, --full "
          f"{SIZES['full']['users']}); a share of them fade before they leave.")
    w = churn_windows(table, size["maxlen"], 7)
    read = table.timestamp[np.maximum(w.events, 0)]
    L.show("windows", len(w.targets))
    L.show("share that churn", w.targets.mean())
    L.check("no window reads an event at or after its cut",
            (read[w.mask] < np.repeat(w.cut, size["maxlen"])[w.mask.ravel()]).all())
    fading = np.isin(w.user, table.meta["fading"])
    L.show("churn share, fading users", w.targets[fading].mean())
    L.show("churn share, steady users", w.targets[~fading].mean())


# %% [markdown]
# ### An LSTM against the recency baseline (test users)

# %%
with L.step("An LSTM against the recency baseline (test users)"):
    settings = dict(epochs=size["epochs"], maxlen=size["maxlen"], d_model=size["d_model"],
                    batch_size=64, dropout=0.0, churn_days=7.0)
    results = {m: tasks.train(table, m, "churn", settings, out=L.out / m, quiet=True,
                              reference=True) for m in ("recency", "lstm")}
    print(f"    {'model':<10}{'AUC':>8}{'PR-AUC':>8}{'F1@0.5':>8}{'F1@valid':>10}")
    for m, r in results.items():
        x = r["metrics"]
        print(f"    {m:<10}{x['auc']:>8.3f}{x['pr_auc']:>8.3f}{x['f1@0.5']:>8.3f}"
              f"{x['f1@valid']:>10.3f}")
    auc = {m: r["metrics"]["auc"] for m, r in results.items()}
    L.check("the LSTM beats recency on AUC", auc["lstm"] > auc["recency"],
            f"{auc['lstm']:.3f} against {auc['recency']:.3f}")
    L.say("Recency sees only the last event's age. The LSTM reads the ages of the last "
          "events in order, so it sees a pace that slows, the mark of a fading user.")


# %% [markdown]
# ### The ROC curve, and a leaking cut time (WRONG, for contrast)
#
# $$ honest: \quad recency at the cut c \quad = c - (last event before c) $$
# $$ leaked: \quad recency at c + D (WRONG) \quad = c + D - (last event before c + D) $$
# $$ the leaked feature is < D exactly when the user came back: it IS the label $$

# %%
with L.step("The ROC curve, and a leaking cut time (WRONG, for contrast)", formula="""
honest:  recency at the cut c          = c - (last event before c)
leaked:  recency at c + D (WRONG)      = c + D - (last event before c + D)
the leaked feature is < D exactly when the user came back: it IS the label"""):
    test = next_behaviour.split(table, 0)[2]
    tw = churn_windows(test, size["maxlen"], 7, (table.timestamp.min(),
                                                 table.timestamp.max()))
    fig, ax = plt.subplots(figsize=(5.5, 5))
    curves = {}
    for m in ("recency", "lstm"):
        p = run_probabilities(results[m]["checkpoint"], "churn", test,
                              (table.timestamp.min(), table.timestamp.max()))[0]
        curves[m] = (metrics.roc_curve(tw.targets, p), metrics.roc_auc(tw.targets, p))
    leaked = leaked_recency(test, tw, 7)
    curves["leaked recency (WRONG)"] = (metrics.roc_curve(tw.targets, leaked),
                                        metrics.roc_auc(tw.targets, leaked))
    for k, (name, ((fpr, tpr, _), area)) in enumerate(curves.items()):
        ax.plot(fpr, tpr, color=f"C{k}", ls="--" if "WRONG" in name else "-",
                label=f"{name}: AUC {area:.3f}")
        L.show(f"AUC {name}", area)
    ax.plot([0, 1], [0, 1], color="gray", lw=0.8, ls=":")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Churn on the test users (D = 7 days)")
    ax.legend(fontsize=8, loc="lower right")
    L.savefig(fig, "roc")
    (fpr, tpr, _), area = curves["lstm"]
    f, r = backend.asarray(fpr), backend.asarray(tpr)
    L.check_close("the area under the LSTM's ROC curve is its AUC",
                  (backend.xp.diff(f) * (r[1:] + r[:-1]) / 2).sum(), area)   # trapezoids
    L.check("the leaked cut inflates the AUC", curves["leaked recency (WRONG)"][1] >
            max(curves["lstm"][1], curves["recency"][1]))
    L.say("The leaked number is not a result: a cut taken at the end of the label window "
          "reads the very events that decide the label. Cut times come from the past only, "
          "and every feature lies before its cut.")

# %%
conclude(L.finish(
    summary=["A churn example is an active user at a cut time; the label is D silent days "
             "after the cut, the features are the events before it.",
             "The recency baseline is hard to beat; an LSTM over [behaviour, age] events "
             "beats it when activity fades before users leave.",
             "AUC and PR-AUC rank; F1 needs a threshold, chosen on validation users.",
             "A cut time that leaks the future gives a near-perfect AUC that means nothing."],
    exercises=EXERCISES + [
        "Train with --folds 5 from the command line (python -m minseq train --model lstm "
        "--task churn --folds 5): how large is the standard deviation of the AUC across "
        "folds, next to the gap between LSTM and recency?",
        "Change --churn-days to 3 and to 14: how do the churn share and the AUCs move, and "
        "why?",
        "Generate a log with fading=0: what is left for the LSTM to beat?"]))
