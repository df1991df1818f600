"""Run under ``mpirun -n 2``: rank 1 fails while rank 0 waits in a collective; the job must
end (not hang) with a message naming the failed rank."""

import datetime
import os
import sys
import time

import aprende
from aprende import distributed as dist

dist.init_process_group(timeout=datetime.timedelta(seconds=2))
if dist.get_rank() == 1:
    if sys.argv[1:] == ["exit"]:
        os._exit(3)  # dies without a word, as a killed process
    if sys.argv[1:] == ["hang"]:
        time.sleep(60)  # alive but never joins: the others' timeout ends the job
    raise ValueError("a bug in rank 1")
dist.all_reduce(aprende.ones(3))
