"""Many threads logging into one recording: nothing lost, duplicated or interleaved."""

from __future__ import annotations

import threading

import numpy as np

import rerun_core as rc
import rerun_sinks as rr

THREADS, LOGS = 8, 1000


def test_eight_threads_times_a_thousand_logs():
    rec = rr.new_recording("app")
    mem = rec.memory_recording()
    image = np.zeros((2, 2), np.uint8)
    barrier = threading.Barrier(THREADS)

    def work(index: int) -> None:
        rec.set_time_sequence("worker", index)
        barrier.wait()
        for step in range(LOGS):
            rec.set_time_sequence("step", step)
            if step == LOGS // 2:
                rec.log_annotation_context(f"t{index}/ctx", [(index, "w")])  # timeless
            rec.log_segmentation_image(f"t{index}", image, ext={"step": step})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    records = mem.records
    total = THREADS * (LOGS + 1)
    assert len(records) == total
    assert [r.log_tick for r in records] == list(range(total))  # sink order is tick order
    assert rec.stats.logged == total
    for index in range(THREADS):
        mine = [r for r in records if r.entity_path == (f"t{index}",)]
        steps = [int(r.msg.ext["ext.step"][0]) for r in mine]
        assert steps == list(range(LOGS))  # all present, in the thread's order
        assert all(r.timepoint["worker"] == rc.TimeValue("sequence", index) for r in mine)
        assert [r.timepoint["step"].value for r in mine] == steps
        [context] = [r for r in records if r.entity_path == (f"t{index}", "ctx")]
        assert context.timeless
        assert context.timepoint == {}


def test_concurrent_file_writes_are_not_interleaved(tmp_path):
    rec = rr.new_recording("app")
    path = tmp_path / "a.rrc"
    rec.save(path)

    def work(index: int) -> None:
        for step in range(200):
            rec.log_image(f"t{index}", np.full((8, 8, 3), step % 256, np.uint8))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rec.flush()
    records = list(rc.iter_records(path.read_bytes()))
    assert [r.log_tick for r in records] == list(range(THREADS * 200))
