"""The benchmark model of bench/simulator/year.toml, written in SimPy.

One gate pair, export direction: trucks arrive (non-homogeneous Poisson, hourly profile in
Vietnam's local time), queue for one of 6 Vietnamese lanes (open 07:00-19:00 Hanoi time), pass
customs (log-normal by green/yellow/red channel, each side drawing its own), border guard and, for fruit, quarantine; drive
5 minutes across the line; queue for one of 6 Chinese lanes (open 07:00-19:00 Beijing time) for
customs and border inspection. Policy: FIFO, or perishables first (earliest spoil-by time).

Usage: python simpy_model.py POLICY SEED [REPLICATIONS]  -> prints one JSON line.
"""
import json
import math
import random
import sys
import time

import simpy

DAY = 1440.0
HORIZON = 365 * DAY
TRUCKS_PER_DAY = 180.0
HOURLY = [1, 1, 1, 1, 1, 2, 4, 6, 8, 8, 8, 7, 6, 7, 8, 8, 7, 6, 4, 3, 2, 2, 1, 1]
HOURLY = [h / sum(HOURLY) for h in HOURLY]
LANES = 6
TRAVEL = 5.0
VN_OFFSET, CN_OFFSET = 0.0, 60.0  # minutes of each side's clock ahead of the start (UTC+7)
OPENS, CLOSES = 7 * 60.0, 19 * 60.0
CHANNELS = [("green", 0.7), ("yellow", 0.2), ("red", 0.1)]
VN_CUSTOMS = {"green": 5.0, "yellow": 15.0, "red": 45.0}
CN_CUSTOMS = {"green": 6.0, "yellow": 15.0, "red": 45.0}


def lognormal(rng, mean, sigma):
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2.0, sigma)


def next_open(t, offset):
    """Minutes from t until the side (clock `offset` ahead) is open; 0 if open now."""
    m = (t + offset) % DAY
    if OPENS <= m < CLOSES:
        return 0.0
    return (OPENS - m) % DAY


class Stats:
    def __init__(self):
        self.events = 0
        self.waits = []
        self.spoiled = 0
        self.arrived = 0
        self.served = 0


def truck(env, rng, vn, cn, perishables_first, st):
    arrived = env.now
    st.arrived += 1
    st.events += 1  # arrival
    fruit = rng.random() < 0.3
    # Each side's customs selects its own channel, independently.
    u, u_cn = rng.random(), rng.random()
    channel = "green" if u < 0.7 else ("yellow" if u < 0.9 else "red")
    cn_channel = "green" if u_cn < 0.7 else ("yellow" if u_cn < 0.9 else "red")
    age = rng.expovariate(1.0 / (12 * 60.0)) if fruit else 0.0
    spoils_at = arrived + 48 * 60.0 - age if fruit else None
    exit_service = lognormal(rng, VN_CUSTOMS[channel], 0.5) + lognormal(rng, 3.0, 0.3)
    if fruit:
        exit_service += lognormal(rng, 10.0, 0.5)
    entry_service = lognormal(rng, CN_CUSTOMS[cn_channel], 0.5) + lognormal(rng, 3.0, 0.3)
    prio = spoils_at if (perishables_first and fruit) else float("inf")
    with vn.request(priority=prio) as req:
        yield req
        wait_open = next_open(env.now, VN_OFFSET)
        if wait_open:
            yield env.timeout(wait_open)
        exit_wait = env.now - arrived
        yield env.timeout(exit_service)
        st.events += 1  # exit service done
    yield env.timeout(TRAVEL)
    st.events += 1  # crossed
    crossed = env.now
    with cn.request(priority=0) as req:
        yield req
        wait_open = next_open(env.now, CN_OFFSET)
        if wait_open:
            yield env.timeout(wait_open)
        entry_wait = env.now - crossed
        yield env.timeout(entry_service)
        st.events += 1  # entry service done
    st.served += 1
    st.waits.append((exit_wait + entry_wait) / 60.0)
    if spoils_at is not None and spoils_at < env.now:
        st.spoiled += 1


def arrivals(env, rng, vn, cn, perishables_first, st):
    t = 0.0
    while t < HORIZON:
        hour_end = (math.floor(t / 60.0) + 1) * 60.0
        rate = TRUCKS_PER_DAY * HOURLY[int((t + VN_OFFSET) % DAY // 60)] / 60.0  # per minute
        gap = rng.expovariate(rate)
        if t + gap < hour_end:
            t += gap
            yield env.timeout(t - env.now)
            env.process(truck(env, rng, vn, cn, perishables_first, st))
        else:
            t = hour_end


def replication(policy, seed):
    rng = random.Random(seed)
    env = simpy.Environment()
    perishables_first = policy == "perishables-first"
    vn = simpy.PriorityResource(env, capacity=LANES)
    cn = simpy.PriorityResource(env, capacity=LANES)
    st = Stats()
    env.process(arrivals(env, rng, vn, cn, perishables_first, st))
    env.run(until=HORIZON)
    return st


def main():
    policy, seed = sys.argv[1], int(sys.argv[2])
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    means, events, spoiled, served, secs = [], 0, [], [], 0.0
    for r in range(reps):
        t0 = time.perf_counter()
        st = replication(policy, seed + r)
        secs += time.perf_counter() - t0
        means.append(sum(st.waits) / max(1, len(st.waits)))
        events += st.events
        spoiled.append(st.spoiled)
        served.append(st.served)
    n = len(means)
    mean = sum(means) / n
    sd = math.sqrt(sum((m - mean) ** 2 for m in means) / (n - 1)) if n > 1 else float("nan")
    print(json.dumps({"policy": policy, "replications": n, "sim_s": secs, "events": events,
                      "mean_wait_h": mean, "mean_wait_h_sd": sd, "rep_means": means,
                      "spoiled": sum(spoiled) / n, "served": sum(served) / n}))


if __name__ == "__main__":
    main()
