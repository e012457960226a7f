"""zipml_hls.dask on a LocalCluster of two worker processes: the quantization equals the
streaming ingestion's with chunks of the sharded pass's blocks, and training equals the
single-machine sharded scheme with the same n_jobs, bit for bit."""

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pytest

for module in ("distributed", "dask.dataframe"):
    pytest.importorskip(module, reason="zipml_hls.dask needs the [dask] extra (pip install 'zipml-hls[dask]')")

import dask.array as da  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

import zipml_hls.dask as zd  # noqa: E402
from zipml_hls import ZipMLClassifier, ZipMLRegressor, engine, load_quantized  # noqa: E402
from zipml_hls.ingest import quantize_file  # noqa: E402

# a full round of two blocks, then a last round of two blocks of 26884 rows, the second of which
# spans chunks 2 and 3 (placed on different workers)
N_ROWS, N_FEATURES = 3 * zd.BLOCK_ROWS + 21_000, 6
PARAMS = dict(bits=4, n_jobs=2, shuffle=False, max_iter=4, decay_epochs=2, random_state=3)


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(N_ROWS, N_FEATURES)) * np.arange(1, N_FEATURES + 1)
    X[rng.uniform(size=N_ROWS) < 0.6, 0] = 0.0  # zero-inflated: its range is widened to put 0 on a level
    w = rng.normal(size=N_FEATURES)
    y = X @ w + 0.1 * rng.normal(size=N_ROWS)
    return X, y, w


@pytest.fixture(scope="module")
def reference(problem, tmp_path_factory):
    """The single machine's quantization: the streaming ingestion's file, chunks of BLOCK_ROWS rows."""
    X, y, _ = problem
    folder = tmp_path_factory.mktemp("dask")
    np.save(folder / "table.npy", np.column_stack([y, X]))
    return quantize_file(folder / "table.npy", folder / "data.zq", 4, seed=11, label_column=0,
                         chunk_rows=zd.BLOCK_ROWS)


@pytest.fixture(scope="module")
def distributed(client, problem):
    X, y, _ = problem
    return zd.quantize(da.from_array(X, chunks=(30_000, N_FEATURES)), 4, y=da.from_array(y, chunks=50_000), seed=11,
                       client=client)


def test_quantization_equals_the_streaming_ingestion(distributed, reference, problem, tmp_path):
    distributed.save(tmp_path / "gathered.zq")
    assert (tmp_path / "gathered.zq").read_bytes() == reference.read_bytes()
    local, reference = distributed.gather(), load_quantized(reference)
    assert np.array_equal(local.lines, reference.lines)
    assert np.array_equal(local.labels, reference.labels)
    ours, theirs = local.stats, reference.stats
    for name in ("mean", "var"):
        assert np.array_equal(getattr(ours.summary, name), getattr(theirs.summary, name))
    assert np.array_equal(ours.summary.scaling.lo, theirs.summary.scaling.lo)
    assert np.array_equal(ours.summary.scaling.inv, theirs.summary.scaling.inv)
    assert np.array_equal(ours.rounding.stored, theirs.rounding.stored)
    assert (ours.bound, ours.bound_conditioned) == (theirs.bound, theirs.bound_conditioned)
    assert ours.step_bounds(True) == theirs.step_bounds(True) and ours.step_bounds(False) == theirs.step_bounds(False)
    zero = -ours.summary.scaling.lo[0] * ours.summary.scaling.inv[0] * 15  # 0 on a level of the 4-bit grid
    assert abs(zero - round(zero)) < 1e-4 and ours.summary.scaling.lo[0] < problem[0][:, 0].min()
    assert distributed.nbytes == reference.nbytes and distributed.n_samples == N_ROWS


def test_dataframe_with_a_label_column(client, problem, distributed):
    X, y, _ = problem
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(N_FEATURES)]).assign(target=y)
    q = zd.quantize(dd.from_pandas(frame, npartitions=3), 4, y="target", seed=11, client=client)
    assert np.array_equal(q.gather().lines, distributed.gather().lines)
    assert np.array_equal(q.labels, y)
    names = tuple(f"x{j}" for j in range(N_FEATURES))  # the feature columns' names, less the label's
    assert q.feature_names == q.gather().feature_names == names and distributed.feature_names is None


def test_training_equals_the_single_machine_sharded_scheme(distributed, reference, problem):
    X, y, w = problem
    remote = zd.fit(ZipMLRegressor(**PARAMS), distributed)
    local = ZipMLRegressor(**PARAMS).fit(load_quantized(reference))
    assert np.array_equal(remote.coef_, local.coef_)
    assert remote.intercept_ == local.intercept_
    assert remote.loss_curve_ == local.loss_curve_
    # and it learned: 4 epochs at 4 bits come within 10% (in norm) of the true weights (3.5% measured)
    assert np.linalg.norm(remote.coef_ - w) < 0.1 * np.linalg.norm(w)


def test_binary_classifier(client, problem, distributed, reference):
    X, y, _ = problem
    labels = np.where(y > np.median(y), 1.0, -1.0)
    params = dict(PARAMS, loss="squared_error")
    remote = zd.fit(ZipMLClassifier(**params), distributed, labels)
    local = ZipMLClassifier(**params).fit(load_quantized(reference), labels)
    assert np.array_equal(remote.coef_, local.coef_) and remote.loss_curve_ == local.loss_curve_
    assert np.mean(remote.predict(X) == labels) > 0.9


def test_a_cluster_that_lists_no_workers_is_given_time_to_show_one(monkeypatch):
    # a cluster restarting its workers lists none for a moment (a CI run's quantize call
    # once met that right after a restart and failed): quantize waits for the first to join,
    # and refuses a cluster that shows none within WORKER_WAIT_S
    monkeypatch.setattr(zd, "WORKER_WAIT_S", 1)
    with LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster, Client(cluster) as c:
        with pytest.raises(ValueError, match="has no workers"):
            zd._workers(c)
        with pytest.raises(TypeError, match="Dask array or DataFrame"):  # (its type is checked first)
            zd.quantize(np.zeros((4, 2)), 4, client=c)
        monkeypatch.setattr(zd, "WORKER_WAIT_S", 30)
        threading.Timer(0.5, lambda: cluster.scale(1)).start()
        assert len(zd._workers(c)) == 1


def test_clear_errors(client, problem, distributed):
    X, y, _ = problem
    with pytest.raises(ValueError, match="shuffle=False"):
        zd.fit(ZipMLRegressor(**dict(PARAMS, shuffle=True)), distributed)
    with pytest.raises(ValueError, match="n_jobs=2"):
        zd.fit(ZipMLRegressor(**dict(PARAMS, n_jobs=3)), distributed)
    with pytest.raises(ValueError, match="n_jobs"):  # the estimator itself, without zd.fit's checks
        ZipMLRegressor(**dict(PARAMS, n_jobs=1)).fit(distributed)
    with pytest.raises(TypeError, match="Dask array or DataFrame"):
        zd.quantize(X, 4, client=client)
    with pytest.raises(TypeError, match="gather"):
        distributed.codes()
    bad = X.copy()
    bad[zd.BLOCK_ROWS + 5, 2] = np.nan
    with pytest.raises(ValueError, match=f"rows {zd.BLOCK_ROWS}-{2 * zd.BLOCK_ROWS - 1}"):
        zd.quantize(da.from_array(bad, chunks=(40_000, N_FEATURES)), 4, client=client)
    small = da.from_array(X[:1000], chunks=(300, N_FEATURES))
    with pytest.raises(ValueError, match="one label per row of X"):
        zd.quantize(small, 4, y=da.from_array(y[:999]), client=client)
    with pytest.raises(ValueError, match="y contains NaN or infinity"):
        zd.quantize(small, 4, y=da.from_array(np.r_[y[:999], np.inf], chunks=400), client=client)
    with pytest.raises(ValueError, match="not a column"):
        zd.quantize(dd.from_pandas(pd.DataFrame(X[:10]), npartitions=1), 4, y="label", client=client)


def _actors(dask_worker):
    """On a worker: the fits held by each of its zipml actors."""
    return [len(actor.runs) for actor in dask_worker.state.actors.values() if isinstance(actor, zd._Shard)]


def _eventually(check, seconds=30.0):
    """``check()`` once it is true (releases reach the workers asynchronously), or its last value."""
    deadline = time.monotonic() + seconds
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value


def test_fits_share_one_actor_per_worker_and_leave_nothing_behind(client, distributed, reference):
    first = zd.fit(ZipMLRegressor(**PARAMS), distributed)
    keys = {w: set(k) for w, k in client.run(lambda dask_worker: list(dask_worker.state.actors)).items()}
    second = zd.fit(ZipMLRegressor(**PARAMS), distributed)  # the same actors, a fit of its own
    assert {w: set(k) for w, k in client.run(lambda dask_worker: list(dask_worker.state.actors)).items()} == keys
    assert np.array_equal(first.coef_, second.coef_) and first.loss_curve_ == second.loss_curve_
    # one actor on each worker, and no fit's labels left on it once the fit is over
    assert _eventually(lambda: all(held == [0] for held in client.run(_actors).values())), client.run(_actors)


@pytest.fixture
def own_client():
    """A cluster of two workers for one test (it restarts workers)."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        yield c


def _three_chunks(client):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(2 * zd.BLOCK_ROWS + 5000, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=len(X))
    return zd.quantize(da.from_array(X, chunks=(20_000, 3)), 4, y=y, seed=2, client=client)


def _in_time(fn, seconds=120.0):
    """``fn()``, failing the test if it takes longer (a chunk tied to a gone worker would wait
    forever): on a daemon thread, which a hung call leaves behind without holding up the exit."""
    done = {}

    def call():
        try:
            done["value"] = fn()
        except BaseException as exc:  # raised again below, on the test's thread
            done["error"] = exc

    thread = threading.Thread(target=call, daemon=True)
    thread.start()
    thread.join(seconds)
    assert done, f"not done in {seconds} s"
    if "error" in done:
        raise done["error"]
    return done["value"]


def test_a_restarted_worker_loses_its_chunks_and_a_fit_computes_them_again(own_client):
    client, data = own_client, _three_chunks(own_client)
    local = ZipMLRegressor(**PARAMS).fit(data.gather())
    zd.fit(ZipMLRegressor(**PARAMS), data)
    held = {w for w, count in client.run(_actors).items() if count}
    assert len(held) == 2
    client.restart_workers([max(held)])
    after = _in_time(partial(zd.fit, ZipMLRegressor(**PARAMS), data))
    assert np.array_equal(after.coef_, local.coef_) and after.loss_curve_ == local.loss_curve_


def _holder(client, data, place):
    """The worker of the actor that runs ``place``'s blocks."""
    team = next(iter(data.lines._fits.teams.values()))[0]
    return next(iter(client.who_has([team[place][0]])[team[place][0].key]))


def test_a_worker_lost_between_rounds_is_replaced_within_the_fit(own_client, monkeypatch):
    client, data = own_client, _three_chunks(own_client)
    local = ZipMLRegressor(**PARAMS).fit(data.gather())
    zd.fit(ZipMLRegressor(**PARAMS), data)
    mapped, map_blocks = [], engine.EpochData.map

    def losing(self, fn, items):  # before the second round of blocks, none in flight: place 1's worker restarts
        mapped.append(None)
        if len(mapped) == 2:
            client.restart_workers([_holder(client, data, 1)])
        return map_blocks(self, fn, items)

    monkeypatch.setattr(engine.EpochData, "map", losing)
    refit = _in_time(partial(zd.fit, ZipMLRegressor(**PARAMS), data))
    assert len(mapped) > 2
    assert np.array_equal(refit.coef_, local.coef_) and refit.loss_curve_ == local.loss_curve_


def _slow_blocks(dask_worker):
    """On a worker: every block waits 3 s first (long enough to lose the worker meanwhile)."""
    block = zd._Shard.block
    zd._Shard.block = lambda self, *args: time.sleep(3) or block(self, *args)


def test_a_worker_lost_during_a_block_fails_the_fit_clearly(own_client):
    client, data = own_client, _three_chunks(own_client)
    local = ZipMLRegressor(**PARAMS).fit(data.gather())
    zd.fit(ZipMLRegressor(**PARAMS), data)
    holder = _holder(client, data, 1)
    client.run(_slow_blocks, workers=[holder])
    with ThreadPoolExecutor(1) as pool:
        pool.submit(lambda: time.sleep(1) or client.restart_workers([holder]))
        with pytest.raises(RuntimeError, match="worker running blocks of this fit is gone"):
            zd.fit(ZipMLRegressor(**PARAMS), data)
    again = _in_time(partial(zd.fit, ZipMLRegressor(**PARAMS), data))
    assert np.array_equal(again.coef_, local.coef_) and again.loss_curve_ == local.loss_curve_
    assert any(client.run(_actors).values())
    del data, again
    gc.collect()
    assert _eventually(lambda: not any(client.run(_actors).values())), client.run(_actors)
