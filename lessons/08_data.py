# %%
"""Preparing behaviour logs: fill, scale, encode, pad, window and split without leaking the future.

Catalogue section C (C1-C7) on the first users of the lessons' behaviour log, plus the H4
erratum: the document's windows take the next feature row as the label and shuffle rows before
windowing.
"""

from unittest import mock

import matplotlib.pyplot as plt
import numpy as np

import minseq.data.batching as batching_module
from minseq import backend
from minseq.data import (Batches, LabelEncoder, MinMaxScaler, fill_missing, leave_one_out,
                         next_event_pairs, normalize_timestamps, pad_sequences, sliding_windows,
                         split_by_time, split_by_user)
from minseq.lesson import Exercise, Lesson
from minseq.lessons_support.notebook import conclude

from helpers import LOG_ITEMS, LOG_SEED, LOG_USERS, behaviour_log

#: the lesson's users: the first 8 of the lessons' behaviour log, and the padded length of C5
#: (users 1 and 2 are longer, users 3 and 4 shorter)
USERS, MAXLEN = 8, 30


def buyer_events(log):
    """The user with the most purchases, their rows of the log, and next_action: 1 where the
    user's next event is a purchase (0 at the last event, whose next is unknown)."""
    purchase = log.behaviour_names.index("purchase")
    buyer = int(np.argmax(np.bincount(log.user[log.behaviour == purchase])))
    rows = log.user_events(buyer)
    return buyer, rows, np.r_[log.behaviour[rows][1:] == purchase, False].astype(int)


def in_time_order(windows):
    """The fraction of windows (n, time_steps) of timestamps that increase along the window."""
    return float((np.diff(windows, axis=1) > 0).all(axis=1).mean())


def same_arrays(mine, reference):
    """True when the tuples of arrays agree in shape, dtype and every value."""
    return all(np.shape(a) == b.shape and np.asarray(a).dtype == b.dtype
               and np.array_equal(a, b) for a, b in zip(mine, reference))


def grade_pad_sequences(L, student_pad):
    """Exercise 1: the student's padding on the lesson's log (the C5 step's checks), against
    minseq's pad_sequences for every padding and truncating, and inside next_event_pairs."""
    log, maxlen = behaviour_log(USERS), MAXLEN
    sequences = log.sequences("item")
    items, mask = student_pad(sequences, maxlen=maxlen)
    L.check("mask counts min(length, maxlen) real events per user",
            np.array_equal(mask.sum(axis=1), np.minimum(log.lengths(), maxlen)))
    L.check("padding positions hold 0, real ones an item id >= 1",
            (items[~mask] == 0).all() and (items[mask] >= 1).all())
    L.check("a longer sequence keeps its last maxlen events, in time order",
            all(np.array_equal(items[u][mask[u]], s[-maxlen:]) for u, s in enumerate(sequences)))
    for padding in ("post", "pre"):
        for truncating in ("pre", "post"):
            options = dict(padding=padding, truncating=truncating)
            L.check(f"padding={padding!r}, truncating={truncating!r}: equals minseq's",
                    same_arrays(student_pad(sequences, maxlen, **options),
                                pad_sequences(sequences, maxlen, **options)))
    L.check("no maxlen: to the longest sequence; value=-1 fills the padding",
            same_arrays(student_pad(sequences, value=-1), pad_sequences(sequences, value=-1)))
    with mock.patch.object(batching_module, "pad_sequences", student_pad):
        pairs = next_event_pairs(sequences, maxlen)
    L.check("next_event_pairs (inputs, targets, mask) built on yours equal minseq's",
            same_arrays(pairs, next_event_pairs(sequences, maxlen)))


def grade_sliding_windows(L, student_windows):
    """Exercise 2: the student's windows on the buyer's events (the C6 step's checks, as printed
    and with a label per row, H4), the time order of per-user windows, and a short sequence,
    against minseq's sliding_windows."""
    log, steps = behaviour_log(USERS), 5
    _, rows, next_action = buyer_events(log)
    user_X = np.stack([log.item[rows], log.timestamp[rows]], axis=1).astype(float)  # (T, 2)
    X, y = student_windows(user_X, steps)
    L.check_close("window i is rows i .. i+4, one window per next row",
                  X, np.stack([user_X[i:i + steps] for i in range(len(user_X) - steps)]))
    L.check_close("as printed, y_i = data[i + time_steps] (the next row)", y, user_X[steps:])
    X, y = student_windows(user_X, steps, targets=next_action)
    L.check_close("with a label per row, the last window ends at the last row",
                  X, np.stack([user_X[i:i + steps] for i in range(len(user_X) - steps + 1)]))
    L.check_close("with a label per row, y_i = next_action[i + time_steps - 1]",
                  y, next_action[steps - 1:])
    per_user = [student_windows(t, steps)[0] for t in log.sequences("timestamp")]
    L.check("per-user windows are stretches of time",
            in_time_order(np.concatenate(per_user)) == 1.0)
    L.check("a sequence shorter than the window gives no window: (0, 5, 2) and (0, 2)",
            same_arrays(student_windows(user_X[:3], steps), sliding_windows(user_X[:3], steps)))


EXERCISES = [
    Exercise("pad_sequences", "Pad and truncate sequences to one length, with the mask of real "
             "events (C5): padding before or after, truncating the oldest or the newest events.",
             grade_pad_sequences,
             reference=["minseq.data.preprocess.pad_sequences"]),
    Exercise("sliding_windows", "Cut the windows X_i = data[i : i + time_steps] of one time "
             "line (C6), with the document's target, the next row, or with a label per row, "
             "that of the window's last row (the H4 fix).", grade_sliding_windows,
             reference=["minseq.data.preprocess.sliding_windows"])]


# %%
L = Lesson(__file__, "Data preparation for behaviour sequences",
           ids=["C1", "C2", "C3", "C4", "C5", "C6", "C7", "H4"], goals=[
               "read a behaviour log as a table of (user, item, behaviour, time) events",
               "fill missing values, min-max scale and label-encode, fitted on train only",
               "pad sequences to one length and keep the mask of real events",
               "cut sliding windows inside one user's time line, with the right label",
               "split by user, by time and leave-one-out, so no future event leaks"])
if L.args.exercise:
    conclude(L.grade(EXERCISES))

log = behaviour_log(USERS)
u1 = log.user_events(1)


# %% [markdown]
# ### (step)

# %%
with L.step(f"The lessons' behaviour log, its first {USERS} users"):
    L.say(f"The log every lesson uses (helpers.behaviour_log: minseq.data.generate("
          f"n_users={LOG_USERS}, n_items={LOG_ITEMS}, seed={LOG_SEED})), in full:")
    print("    " + behaviour_log().summary().replace("\n", "\n    "))
    L.say(f"This lesson prepares its first {USERS} users. Each row is one event. Users, "
          "items and behaviours are dense ids starting at 1; 0 is kept for padding. User "
          "1's first events:")
    names = np.array(log.behaviour_names)
    for item, b, t in list(zip(log.item[u1], log.behaviour[u1], log.timestamp[u1]))[:6]:
        print(f"    t={t}  item {item:>2}  {names[b]}")
    L.show("events per user", log.lengths())
    L.check("events are sorted by user, then time",
            (np.diff(log.user) >= 0).all() and (np.diff(log.timestamp[u1]) > 0).all())

# Two numeric features per event: an item price (missing for some items) and the seconds
# since the user's previous event.
rng = np.random.default_rng(1)
price = rng.lognormal(3.0, 0.5, log.n_items + 1).round(1)
price[[3, 7, 11, 19, 23]] = np.nan
gap = np.diff(log.timestamp, prepend=log.timestamp[0]).astype(float)
gap[log.position() == 0] = 0.0
X = np.stack([price[log.item], gap], axis=1)
train_users, valid_users = split_by_user(log, 0.25, seed=0)
is_train = np.isin(log.user, np.unique(train_users.user))


# %% [markdown]
# ### C1: missing values
#
# $$ drop rows with NaN, or fill NaN with the column \operatorname{mean} (of the training rows) $$

# %%
with L.step("C1: missing values", formula="drop rows with NaN, or fill NaN with the "
            "column mean (of the training rows)"):
    col = X[is_train, 0]
    mean_by_hand = col[~np.isnan(col)].sum() / (~np.isnan(col)).sum()
    L.show("missing prices", np.isnan(X[:, 0]).sum())
    L.show("mean price over training rows, by hand", mean_by_hand)
    _, means = fill_missing(X[is_train])
    filled, _ = fill_missing(X, fill_values=means)
    L.check_close("fill_missing uses the same mean", means[0], mean_by_hand)
    L.check("no NaN left; every missing price, train or validation, is the TRAIN mean",
            not np.isnan(filled).any() and
            np.allclose(filled[np.isnan(X[:, 0]), 0], mean_by_hand, rtol=1e-12))
    L.show("rows left if we drop instead", len(fill_missing(X, "drop")[0]))


# %% [markdown]
# ### C2: min-max scaling
#
# $$ x' = (x - \min) / (\max - \min) $$ (min and max from the training split)

# %%
with L.step("C2: min-max scaling", formula="x' = (x - min) / (max - min)   "
            "(min and max from the training split)"):
    lo, hi = filled[is_train].min(axis=0), filled[is_train].max(axis=0)
    by_hand = (filled - lo) / (hi - lo)
    scaler = MinMaxScaler().fit(filled[is_train])
    scaled = scaler.transform(filled)
    L.show("train min", lo)
    L.show("train max", hi)
    L.show("first rows scaled", scaled[:3])
    L.check("the scaler's min and max come from the training rows alone",
            np.array_equal(scaler.min_, lo) and np.array_equal(scaler.max_, hi))
    L.check_close("MinMaxScaler equals the formula", scaled, by_hand)
    L.check_close("inverse_transform gives the data back", scaler.inverse_transform(scaled),
                  filled)
    const = np.full((4, 1), 5.0)
    with np.errstate(invalid="ignore"):
        literal = (const - const.min()) / (const.max() - const.min())
    L.say("A constant column (every value 5) has max - min = 0: the formula divides 0 by 0.")
    L.show("literal on a constant column", literal[:, 0])
    L.show("MinMaxScaler on it", MinMaxScaler().fit_transform(const)[:, 0])
    L.check("a constant column maps to 0, not NaN",
            np.all(MinMaxScaler().fit_transform(const) == 0))


# %% [markdown]
# ### C3: label encoding
#
# $$ browse \to 0, purchase \to 1, like \to 2 $$

# %%
with L.step("C3: label encoding", formula="browse -> 0, purchase -> 1, like -> 2"):
    enc = LabelEncoder(classes=["browse", "purchase", "like"])
    codes = enc.transform(["like", "browse", "browse", "purchase"])
    L.show("codes of [like, browse, browse, purchase]", codes)
    L.check("the document's mapping", codes.tolist() == [2, 0, 0, 1])
    L.check("inverse_transform maps back",
            enc.inverse_transform(codes).tolist() == ["like", "browse", "browse",
                                                      "purchase"])


# %% [markdown]
# ### C4: timestamp normalisation
#
# $$ t' = (t - t_min) / (t_max - t_min) $$

# %%
with L.step("C4: timestamp normalisation", formula="t' = (t - t_min) / (t_max - t_min)"):
    t = log.timestamp[u1]
    t_norm = normalize_timestamps(t)
    L.show("user 1 times (s)", t[:5])
    L.show("normalised", t_norm[:5])
    L.check_close("equals the formula", t_norm, (t - t.min()) / (t.max() - t.min()))

maxlen = MAXLEN


# %% [markdown]
# ### C5: pad and truncate to one length
#
# $$ post padding with 0; a longer sequence keeps its last n steps; the mask marks real events $$

# %%
with L.step("C5: pad and truncate to one length", formula="post padding with 0; a longer "
            "sequence keeps its last n steps; the mask marks real events"):
    items, mask = pad_sequences(log.sequences("item"), maxlen=maxlen)
    print(f"    {log.n_users} users of {log.lengths()} events -> items {items.shape}, mask "
          f"{mask.shape}")
    L.show(f"padded item ids of users 1-4, the last 12 of {maxlen} positions",
           items[:4, -12:])
    L.show("their mask, the same positions", mask[:4, -12:].astype(int))
    L.check("mask counts min(length, maxlen) real events per user",
            (mask.sum(axis=1) == np.minimum(log.lengths(), maxlen)).all())
    L.check("padding positions hold 0, real ones an item id >= 1",
            (items[~mask] == 0).all() and (items[mask] >= 1).all())
    inputs, targets, m = items[:, :-1], items[:, 1:], mask[:, 1:]
    batch = next(iter(Batches(inputs, targets, m, batch_size=4, seed=0)))
    L.say(f"Batches hands out (inputs, targets, mask) on the active backend "
          f"({backend.get_backend()}): shapes {[tuple(a.shape) for a in batch]}.")
    L.check("a batch lives on the active backend",
            all(backend.is_device_array(a) for a in batch))


# %% [markdown]
# ### Document 002, section 5.2: its encoding, padding and decoding, with its numbers
#
# $$ type_code = {browse: 0, purchase: 1, like: 2} $$ (its keys are Chinese)
# $$ rows = [[user_id, type_code, t'] for each event]; \quad pad_sequences(rows, maxlen=100, padding='post') $$
# $$ print(f'predicted type: {type_code[pred]}, ...') $$ (section 5.2.5)

# %%
with L.step("Document 002, section 5.2: its encoding, padding and decoding, with its numbers",
            formula="type_code = {browse: 0, purchase: 1, like: 2}   (its keys are Chinese)\n"
                    "rows = [[user_id, type_code, t'] for each event];  pad_sequences(rows, "
                    "maxlen=100, padding='post')\n"
                    "print(f'predicted type: {type_code[pred]}, ...')   (section 5.2.5)"):
    type_code = {"browse": 0, "purchase": 1, "like": 2}
    events = [("browse", 0.0), ("like", 0.42), ("purchase", 1.0)]   # one user's, t' of C4
    rows = [[7, type_code[b], t] for b, t in events]                 # user 7, row by row
    L.show("rows [user_id, type, t'] as the document builds them", np.array(rows))
    padded, mask_002 = pad_sequences(rows, maxlen=100, dtype=np.int32)  # Keras' default dtype
    L.show("the rows padded to 100, first 6 columns", padded[:, :6])
    L.check("each padded 'sequence' is one event: 3 numbers and 97 zeros",
            padded.shape == (3, 100) and (mask_002.sum(axis=1) == 3).all())
    L.check("int32 turns t' = 0.42 into 0: only t' = 1 survives",
            padded[1, 2] == 0 and padded[2, 2] == 1)
    history, _ = pad_sequences([[type_code[b] for b, _ in events]], maxlen=100)
    L.show("what a sequence model should read: the user's types in time order, first 6",
           history[0, :6])
    L.erratum("C5",
              literal="pad_sequences(rows, maxlen=100, padding='post') over rows [user_id, "
                      "type, t'], one per event",
              standard="one sequence per user: the types of the user's events in time "
                       "order, padded to 100, with its mask",
              demo="each padded row is one event and 97 zeros, so no sequence holds a "
                   "history; and Keras' pad_sequences casts to int32 by default, which "
                   "turns every t' in (0, 1) into 0.",
              source="document 002 sections 5.2.1, 5.2.3")
    try:
        type_code[1]
        refused = None
    except KeyError as exc:
        refused = exc
    L.say(f"Decoding a prediction pred = 1 as printed, type_code[1], raises KeyError: "
          f"{refused}. The dict maps names to codes; decoding needs the other direction.")
    decode = {code: name for name, code in type_code.items()}
    L.check("type_code[pred] is a KeyError; the inverse mapping decodes 1 to 'purchase'",
            refused is not None and decode[1] == "purchase")
    L.check("LabelEncoder.inverse_transform is that inverse mapping",
            LabelEncoder(classes=list(type_code)).inverse_transform([0, 1, 2]).tolist()
            == [decode[k] for k in range(3)])
    L.erratum("C3",
              literal="print(f'predicted type: {type_code[pred]}, ...') with type_code = "
                      "{browse: 0, purchase: 1, like: 2}; printed in section 5.4: "
                      "'predicted type: 1, actual type: 1'",
              standard="decode with the inverse mapping {0: browse, 1: purchase, 2: like} "
                       "(LabelEncoder.inverse_transform)",
              demo="type_code[1] looks up the key 1 in a dict keyed by names and raises "
                   "KeyError, so the printed lines, which show codes, cannot come from this "
                   "code; decoded, 1 reads 'purchase'.",
              source="document 002 sections 5.2.5, 5.4")

steps = 5


# %% [markdown]
# ### C6: sliding windows
#
# $$ X_i = data[i : i + time_steps], \quad y_i = data[i + time_steps] $$

# %%
with L.step("C6: sliding windows", formula="X_i = data[i : i + time_steps],  "
            "y_i = data[i + time_steps]"):
    buyer, rows, next_action = buyer_events(log)
    L.say(f"User {buyer} (the most purchases), features scaled in C2:")
    user_X = scaled[rows]
    Xw, yw = sliding_windows(user_X, steps)
    L.show("window 0", Xw[0])
    L.show("y_0 as printed", yw[0])
    L.check("window i is rows i..i+4", np.array_equal(Xw[2], user_X[2:7]))
    Xs, ys = sliding_windows(user_X, steps, targets=next_action)
    L.show("labels: is the next event a purchase? (first 20)", ys[:20])
    L.check("with a label per row, y_i = next_action[i + time_steps - 1]",
            np.array_equal(ys, next_action[steps - 1:]))

L.erratum("H4",
          literal="y_i = data[i + time_steps] (the next FEATURE row); "
          "train_test_split(X, y, shuffle=True) over the rows before windowing",
          standard="y_i = next_action[i + time_steps - 1] (a 0/1 label); window each "
          "user's time-ordered rows, split by user or by time first",
          demo=f"the printed y_0 is a vector of {yw.shape[1]} scaled features, not a "
          "label a sigmoid can be trained on; and after shuffling, a window is no longer a "
          "stretch of time (below).",
          source="document 004 section 5.2")
order = rng.permutation(len(log))
shuffled_t = log.timestamp[order]
win_t, _ = sliding_windows(shuffled_t, steps)
in_order = in_time_order(win_t)
per_user = [sliding_windows(t, steps)[0] for t in log.sequences("timestamp")]
in_order_user = in_time_order(np.concatenate(per_user))
L.show("windows in time order after shuffling rows", in_order)
L.show("windows in time order, per user", in_order_user)
L.check("per-user windows are stretches of time; shuffled ones mostly are not",
        in_order_user == 1.0 and in_order < 0.2)


# %% [markdown]
# ### C7: splits that never leak the future
#
# $$ \text{20 \% validation, fixed seed; for sequences split by user or by time} $$

# %%
with L.step("C7: splits that never leak the future", formula="20 % validation, fixed "
            "seed; for sequences split by user or by time"):
    train, valid = split_by_user(log, 0.25, seed=0)
    L.show("validation users", np.unique(valid.user))
    L.check("no user on both sides", not set(train.user) & set(valid.user))
    early, late = split_by_time(log, 0.2)
    L.say(f"time split: training ends at t={early.timestamp.max()}, validation starts at "
          f"t={late.timestamp.min()}")
    L.check("by time: training ends before validation starts",
            early.timestamp.max() < late.timestamp.min())
    rows = np.random.default_rng(0).permutation(len(log))
    val_rows = np.zeros(len(log), bool)
    val_rows[rows[:len(log) // 5]] = True
    last_train = np.zeros(log.n_users + 1)
    np.maximum.at(last_train, log.user[~val_rows], log.timestamp[~val_rows])
    leak = (log.timestamp[val_rows] < last_train[log.user[val_rows]]).mean()
    L.show("random row split: validation events older than the user's last training "
           "event", leak)
    loo = leave_one_out(log)
    L.show("leave-one-out: test item of each user", loo.test.item)
    L.check("leave-one-out: test is each user's last event, valid the second last",
            np.array_equal(loo.test.item, [s[-1] for s in log.sequences()]) and
            np.array_equal(loo.valid.item, [s[-2] for s in log.sequences()]))

fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
ax[0].bar(np.arange(1, log.n_users + 1), log.lengths(), color="tab:blue")
ax[0].axhline(maxlen, color="tab:red", ls="--", label=f"maxlen {maxlen}")
ax[0].set(title="Events per user", xlabel="user id", ylabel="events")
ax[0].legend()
ax[1].imshow(mask, cmap="Greys", aspect="auto", interpolation="nearest")
ax[1].set(title=f"Padding mask of the {mask.shape[0]} users, maxlen {mask.shape[1]}\n"
          "(black = real event)", xlabel="position", ylabel="user id",
          yticks=np.arange(log.n_users), yticklabels=np.arange(1, log.n_users + 1))
L.savefig(fig, "lengths_and_mask")

# %%
conclude(L.finish(summary=[
    "Fit every statistic (means for C1, min and max for C2, t_min and t_max for C4) on "
    "the training split and apply it unchanged to validation.",
    "Padding needs a mask; losses and attention must ignore the padded positions.",
    "Window inside one user's time line; the label of a window is what follows its last "
    "row (next_action), not the next feature row (H4).",
    "Split by user, by time or leave-one-out; a random row split puts the future in "
    "training."],
    exercises=EXERCISES + [
    "Pad with padding='pre' and truncating='post'. Which events does a user with 15 "
    "events keep, and when would you want that?",
    "Use sliding_windows with targets = 'purchase within the next 3 events' and count the "
    "positive windows per user.",
    "Split by time with 30 % validation: how many validation users never appear in "
    "training (cold-start users)?"]))
