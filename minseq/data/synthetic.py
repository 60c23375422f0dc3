"""A synthetic e-commerce behaviour log whose tasks are learnable and depend on order.

The world: items grouped into categories, item popularity Zipf-like, each category with a few
likely successor categories ("what is viewed after what"), and each item with three related
items in those successor categories. Each user has three favourite categories that drift
(each step, with probability ``drift``, one is replaced by a random category) and a purchase
propensity ``buyer ~ Beta(2, 2)``.

Each event follows from the previous one (a first-order process, so order carries the signal):

* the funnel, on the same item: browse -> click (0.5); click -> cart (0.4) or favourite (0.15);
  favourite -> cart (0.35); cart -> purchase (0.2 + 0.6 * buyer) or favourite (0.1);
* otherwise the user moves to a new item, browsed (0.8) or clicked (0.2): a related item of the
  previous one (``p_related``), an item of a successor category (``p_transition``), or an item
  of one of the user's favourite categories (the rest), chosen by popularity;
* with probability ``noise`` the event is replaced by a uniformly random item and behaviour.

Time gaps: about 20 s within the funnel, about 60 s to a new item, and a new session (about
half a day) with probability 0.02. Generation is vectorised across users: one loop over the
step index, never over events, and memory proportional to the output.

Visits over days, and churn: on top of those gaps, each gap becomes a break of days with
probability ``p_break`` (0.15), exponential with a per-user mean (log-normal around
``break_days``, 2 days). A share ``fading`` (0.3) of the users fade away: their breaks grow
along their sequence, ``exp(3 * k / n)`` times longer at event k of n (the last breaks about
20 times the first), as a user whose activity fades before leaving; the others keep one pace
until their last event. These times come from a second random stream (seeded by ``seed``), so
the items and behaviours of a seed do not depend on them. ``meta["fading"]`` lists the fading
users (dense ids).
"""

import numpy as np

from .events import BEHAVIOURS, EventTable, behaviour_vocab

BROWSE, CLICK, CART, FAVOURITE, PURCHASE = range(1, 6)
START_TIME = 1511539200  # 2017-11-25 00:00 UTC, the first day of the Taobao log

# FUNNEL[b, b'] = probability that after behaviour b the user does b' on the SAME item;
# what is left of each row is the probability of moving to a new item.
FUNNEL = np.zeros((6, 6))
FUNNEL[BROWSE, CLICK] = 0.5
FUNNEL[CLICK, CART], FUNNEL[CLICK, FAVOURITE] = 0.4, 0.15
FUNNEL[FAVOURITE, CART] = 0.35
FUNNEL[CART, FAVOURITE] = 0.1  # CART -> PURCHASE is set per user from ``buyer``


def generate(n_users=1000, n_items=500, n_categories=20, events_per_user=50, min_events=5,
             noise=0.05, drift=0.02, p_related=0.4, p_transition=0.3, p_break=0.15,
             break_days=2.0, fading=0.3, seed=0):
    """An EventTable of about ``n_users * events_per_user`` events (see the module docstring).

    Sequence lengths are log-normal with mean ``events_per_user``, clipped to
    [min_events, 20 * events_per_user] (min_events wins when it is the larger). Timestamps are
    Unix seconds. The same arguments always give the same log.
    """
    if n_items < n_categories or min(n_users, n_categories, min_events) < 1 or \
            not events_per_user > 0:
        raise ValueError(f"generate: need n_users, n_categories, min_events >= 1, "
                         f"events_per_user > 0 and n_items >= n_categories, got "
                         f"n_users={n_users}, n_items={n_items}, n_categories={n_categories}, "
                         f"min_events={min_events}, events_per_user={events_per_user}")
    rng = np.random.default_rng(seed)
    world = _World(rng, n_items, n_categories, p_related, p_transition)

    lengths = rng.lognormal(np.log(events_per_user) - 0.125, 0.5, n_users).round()
    lengths = np.clip(lengths, min_events, max(min_events, 20 * events_per_user)).astype(np.int64)
    order = np.argsort(-lengths, kind="stable")  # longest first: active users are a prefix
    lengths_sorted = lengths[order]
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    base = offsets[order]  # where each (sorted) user's events start in the output

    E = int(offsets[-1])
    out_item, out_beh = np.empty(E, np.int64), np.empty(E, np.int64)
    out_time = np.empty(E, np.int64)

    favourites = rng.integers(1, n_categories + 1, (n_users, 3))
    buyer = rng.beta(2.0, 2.0, n_users)
    item = world.popular_item(rng, favourites[np.arange(n_users), rng.integers(0, 3, n_users)])
    beh = np.where(rng.random(n_users) < 0.8, BROWSE, CLICK)
    time = START_TIME + rng.integers(0, 30 * 86400, n_users)

    for t in range(int(lengths_sorted[0])):
        n = int(np.count_nonzero(lengths_sorted > t))
        if t > 0:
            item, beh, time = item[:n], beh[:n], time[:n]
            item, beh, gap = _step(rng, world, item, beh, favourites[:n], buyer[:n], noise)
            time = time + gap
            drifting = np.flatnonzero(rng.random(n) < drift)
            favourites[drifting, rng.integers(0, 3, len(drifting))] = rng.integers(
                1, n_categories + 1, len(drifting))
        pos = base[:n] + t
        out_item[pos], out_beh[pos], out_time[pos] = item, beh, time

    user = np.repeat(np.arange(1, n_users + 1), lengths)
    out_time, fading_users = _visits(np.random.default_rng([seed, 1]), user, lengths, out_time,
                                     p_break, break_days, fading)
    vocab = np.arange(n_users + 1)
    return EventTable(
        user=user, item=out_item,
        category=world.category[out_item], behaviour=out_beh, timestamp=out_time,
        user_vocab=vocab, item_vocab=np.arange(n_items + 1),
        category_vocab=np.arange(n_categories + 1), behaviour_names=behaviour_vocab(BEHAVIOURS),
        meta={"source": f"synthetic(seed={seed})", "time_unit": "s",
              "fading": fading_users.tolist()})


def _visits(rng, user, lengths, time, p_break, break_days, fading):
    """(times with breaks of days added, the fading users): see the module docstring."""
    n_users = len(lengths)
    start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    k = np.arange(len(user)) - start[user - 1]                        # event k of its user
    fades = rng.random(n_users) < fading
    mean = rng.lognormal(np.log(break_days) - 0.125, 0.5, n_users) * 86400.0
    growth = np.where(fades[user - 1], np.exp(3.0 * k / lengths[user - 1]), 1.0)
    breaks = (rng.random(len(user)) < p_break) & (k > 0)
    extra = np.where(breaks, rng.exponential(1.0, len(user)) * mean[user - 1] * growth, 0.0)
    total = np.cumsum(extra.astype(np.int64))
    total -= np.repeat(total[start] - extra[start].astype(np.int64), lengths)  # per user
    return time + total, np.flatnonzero(fades) + 1


def _step(rng, world, item, beh, favourites, buyer, noise):
    """One event for each active user from their previous (item, behaviour)."""
    n = len(item)
    rows = FUNNEL[beh]  # (n, 6) probabilities of each next behaviour on the same item
    rows[beh == CART, PURCHASE] = 0.2 + 0.6 * buyer[beh == CART]
    nxt = (rng.random(n)[:, None] > np.cumsum(rows, axis=1)).sum(axis=1)  # 6 = move on
    move = np.flatnonzero(nxt == 6)
    new_beh = nxt.copy()
    new_beh[move] = np.where(rng.random(len(move)) < 0.8, BROWSE, CLICK)
    new_item = item.copy()
    new_item[move] = world.next_item(rng, item[move], favourites[move])
    gap = 1 + rng.exponential(20.0, n)
    gap[move] += rng.exponential(40.0, len(move)) + (rng.random(len(move)) < 0.02) * \
        rng.exponential(43200.0, len(move))
    noisy = np.flatnonzero(rng.random(n) < noise)
    new_item[noisy] = rng.integers(1, world.n_items + 1, len(noisy))
    new_beh[noisy] = rng.integers(1, 6, len(noisy))
    return new_item, new_beh, gap.astype(np.int64)


class _World:
    """Items, categories, popularity, category successors and related items (fixed by seed)."""

    def __init__(self, rng, n_items, n_categories, p_related, p_transition):
        self.n_items, self.p_related, self.p_transition = n_items, p_related, p_transition
        # every category gets at least one item; items are numbered category by category
        cats = np.concatenate([np.arange(1, n_categories + 1),
                               rng.integers(1, n_categories + 1, n_items - n_categories)])
        self.category = np.concatenate([[0], np.sort(cats)])  # category[item], item 1..n
        weight = (rng.permutation(n_items) + 1.0) ** -0.8  # Zipf-like popularity
        self.cum = np.cumsum(weight)
        first = np.searchsorted(self.category[1:], np.arange(n_categories + 1))
        last = np.searchsorted(self.category[1:], np.arange(n_categories + 1), side="right")
        self.first, self.last = first, last  # items of category c: first[c]+1 .. last[c]
        cum0 = np.concatenate([[0.0], self.cum])
        self.before, self.mass = cum0[first], cum0[last] - cum0[first]
        self.successors = rng.integers(1, n_categories + 1, (n_categories + 1, 3))
        self.successor_cum = np.cumsum(rng.dirichlet([4.0, 2.0, 1.0], n_categories + 1), axis=1)
        self.related = np.stack([self.popular_item(rng, self.next_category(rng, self.category[1:]))
                                 for _ in range(3)], axis=1)
        self.related = np.concatenate([np.zeros((1, 3), np.int64), self.related])

    def popular_item(self, rng, category):
        """(n,) items drawn by popularity within each given category."""
        target = self.before[category] + rng.random(len(category)) * self.mass[category]
        idx = np.searchsorted(self.cum, target, side="right")
        return np.clip(idx, self.first[category], self.last[category] - 1) + 1

    def next_category(self, rng, category):
        j = (rng.random(len(category))[:, None] > self.successor_cum[category]).sum(axis=1)
        return self.successors[category, np.minimum(j, 2)]

    def next_item(self, rng, item, favourites):
        """(n,) the item after ``item``: related, successor category, or a favourite category."""
        n = len(item)
        r = rng.random(n)
        fav = favourites[np.arange(n), rng.integers(0, 3, n)]
        succ = self.next_category(rng, self.category[item])
        by_category = self.popular_item(rng, np.where(r < self.p_related + self.p_transition,
                                                      succ, fav))
        related = self.related[item, rng.choice(3, n, p=[0.5, 0.3, 0.2])]
        return np.where(r < self.p_related, related, by_category)
