r"""Run folders: what ``graphcl train --out DIR`` writes, so that a run is
never lost, mixed with another, or silently incomplete.

A run folder holds

* ``run.json``: the status (``running``, ``complete``, ``failed``,
  ``interrupted``), the config, the graphcl version, the seeds finished and
  the process that wrote it, updated at every change;
* ``seeds/seed_<n>.json``: each finished seed's results, written as soon as
  the seed ends;
* ``checkpoint.pt``: the seed in progress (model, optimizer, random
  states, early-stopping state, epoch), every few epochs and at the end of
  each seed, which ``--resume`` continues from;
* ``metrics.json``, ``embeddings.pt``, ``encoder.pt``: the results, and
  ``model.json`` (method, options, feature width) for ``graphcl embed``;
* ``.lock``: the process using the folder, while it runs;
* ``losses.png``, ``probe.png``, ``embeddings.png``: ``graphcl plot``'s
  pictures, when drawn.

Every file is written atomically (:mod:`graphcl.atomic`). A folder that
holds a run with another config, or another run in progress, is refused
before any work is done.
"""
import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import torch

from .atomic import atomic_save, atomic_write_json
from .plot import PLOT_FILES

__all__ = ['RunDir', 'RunFolderError', 'RUN_FILES']

#: The files and folders graphcl writes into a run folder (``--overwrite``
#: removes these and nothing else).
RUN_FILES = ('run.json', 'metrics.json', 'embeddings.pt', 'encoder.pt',
             'model.json', 'checkpoint.pt', 'seeds') + PLOT_FILES


class RunFolderError(ValueError):
    r"""A run folder that cannot be used as asked (a file, unwritable,
    another run's, in use); the message says what to do."""


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except OSError:
        return False
    return True


class RunDir:
    r"""An output folder of one run (see the module description).

    Args:
        path (str): The folder (created if missing).
        config (dict): The run's settings; a folder holding a run with
            another config is refused unless :obj:`overwrite`.
        resume (bool, optional): Continue the run the folder holds (same
            config), skipping finished seeds. (default: :obj:`False`)
        overwrite (bool, optional): Remove an earlier run's files first.
            (default: :obj:`False`)
        version (str, optional): Recorded in ``run.json``.
    """
    def __init__(self, path, config: Dict[str, Any], resume: bool = False,
                 overwrite: bool = False, version: str = ''):
        if resume and overwrite:
            raise RunFolderError("--resume and --overwrite contradict each "
                                 "other: choose one")
        self.path = Path(path)
        self.config = _jsonable(config)
        self.resume = resume
        self.overwrite = overwrite
        self.version = version
        self.status: Dict[str, Any] = {}
        self._locked = False

    # Opening -------------------------------------------------------------
    def open(self) -> 'RunDir':
        r"""Checks the folder, takes its lock and marks the run
        ``running``; every refusal happens here, before any work."""
        p = self.path
        if p.exists() and not p.is_dir():
            raise RunFolderError(f"--out '{p}' is a file, not a folder; "
                                 f"name a folder (it is created if missing)")
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise RunFolderError(f"Cannot create the output folder '{p}': "
                                 f"{e.strerror}; choose another --out") \
                from None
        if not os.access(p, os.W_OK | os.X_OK):
            raise RunFolderError(f"The output folder '{p}' is not writable; "
                                 f"choose another --out or fix its "
                                 f"permissions")
        self._lock()
        try:
            self._check_previous()
            self.status = dict(
                status='running', config=self.config, version=self.version,
                pid=os.getpid(), host=socket.gethostname(),
                started=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                seeds_done=self.seeds_done())
            self._write_status()
        except BaseException:
            self.close()
            raise
        return self

    def _lock(self):
        lock = self.path / '.lock'
        me = f'{os.getpid()} {socket.gethostname()}\n'
        for _ in range(2):
            try:
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    pid_s, host = lock.read_text().split()[:2]
                    pid = int(pid_s)
                except (OSError, ValueError):
                    pid, host = -1, ''
                if pid > 0 and (host != socket.gethostname()
                                or _pid_alive(pid)):
                    raise RunFolderError(
                        f"The output folder '{self.path}' is in use by "
                        f"process {pid} on {host}; wait for it to finish or "
                        f"choose another --out (if that process is gone, "
                        f"delete {lock})") from None
                lock.unlink(missing_ok=True)  # stale: its owner is gone
                continue
            except OSError as e:
                raise RunFolderError(
                    f"Cannot write into the output folder '{self.path}': "
                    f"{e.strerror}; choose another --out") from None
            with os.fdopen(fd, 'w') as f:
                f.write(me)
            self._locked = True
            return
        raise RunFolderError(f"Could not lock '{lock}'; try again")

    def _check_previous(self):
        p = self.path
        status_file = p / 'run.json'
        ours = [name for name in RUN_FILES if (p / name).exists()]
        if not status_file.exists():
            if ours and not self.overwrite:
                raise RunFolderError(
                    f"The output folder '{p}' already holds "
                    f"{', '.join(ours)} from a run with no run.json; pass "
                    f"--overwrite to replace them or choose another --out")
            if ours:
                self._clear()
            return
        try:
            old = json.loads(status_file.read_text())
            old_config = old['config']
        except (OSError, ValueError, KeyError, TypeError):
            if not self.overwrite:
                raise RunFolderError(
                    f"'{status_file}' is unreadable; pass --overwrite to "
                    f"start again in '{p}' or choose another --out") \
                    from None
            self._clear()
            return
        if self.overwrite:
            self._clear()
            return
        if old_config != self.config:
            diff = sorted(k for k in set(old_config) | set(self.config)
                          if old_config.get(k) != self.config.get(k))
            raise RunFolderError(
                f"The output folder '{p}' holds a run with another config "
                f"(differs in: {', '.join(diff)}); pass --overwrite to "
                f"replace it or choose another --out")
        if not self.resume:
            raise RunFolderError(
                f"The output folder '{p}' holds a run with the same config "
                f"(status: {old.get('status')}); pass --resume to continue "
                f"it or --overwrite to start again")

    def _clear(self):
        for name in RUN_FILES:
            target = self.path / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()

    # State ---------------------------------------------------------------
    def _write_status(self):
        self.status['updated'] = time.strftime('%Y-%m-%dT%H:%M:%S%z')
        atomic_write_json(self.path / 'run.json', self.status)

    def seeds_done(self) -> List[int]:
        r"""The seeds whose results are saved."""
        folder = self.path / 'seeds'
        if not folder.is_dir():
            return []
        out = []
        for f in folder.glob('seed_*.json'):
            try:
                out.append(int(f.stem[len('seed_'):]))
            except ValueError:
                continue
        return sorted(out)

    def seed_result(self, seed: int) -> Optional[Dict[str, Any]]:
        r"""The saved results of :obj:`seed`, or :obj:`None`."""
        f = self.path / 'seeds' / f'seed_{seed}.json'
        if not f.exists():
            return None
        return json.loads(f.read_text())

    def save_seed(self, seed: int, result: Dict[str, Any]):
        r"""Records a finished seed's results."""
        (self.path / 'seeds').mkdir(exist_ok=True)
        atomic_write_json(self.path / 'seeds' / f'seed_{seed}.json',
                          _jsonable(result))
        self.status['seeds_done'] = self.seeds_done()
        self._write_status()

    @property
    def checkpoint_file(self) -> Path:
        return self.path / 'checkpoint.pt'

    def save_checkpoint(self, state: Dict[str, Any]):
        r"""Writes the checkpoint of the seed in progress (atomically: the
        previous one stays until the new one is complete)."""
        atomic_save(state, self.checkpoint_file)

    def load_checkpoint(self, seed: int) -> Optional[Dict[str, Any]]:
        r"""The checkpoint of :obj:`seed`, when the folder has one."""
        f = self.checkpoint_file
        if not f.exists():
            return None
        try:
            state = torch.load(f, map_location='cpu', weights_only=True)
        except Exception as e:  # noqa: BLE001 (any unreadable file)
            raise RunFolderError(
                f"The checkpoint '{f}' is unreadable ({type(e).__name__}); "
                f"delete it to restart seed {seed} from its start, or pass "
                f"--overwrite") from None
        return state if state.get('seed') == seed else None

    def finish(self, status: str, message: Optional[str] = None):
        r"""Marks the run ``complete``, ``failed`` or ``interrupted``."""
        self.status['status'] = status
        if message:
            self.status['message'] = message
        else:
            self.status.pop('message', None)
        if status == 'complete':
            self.checkpoint_file.unlink(missing_ok=True)
        try:
            self._write_status()
        except OSError:
            if status == 'complete':
                raise

    def close(self):
        r"""Releases the folder's lock."""
        if self._locked:
            (self.path / '.lock').unlink(missing_ok=True)
            self._locked = False

    def __enter__(self) -> 'RunDir':
        return self.open()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.status.get('status') == 'running':
            kind = ('interrupted' if issubclass(
                exc_type, (KeyboardInterrupt, SystemExit)) or getattr(
                    exc, 'interrupted', False) else 'failed')
            self.finish(kind, f'{exc_type.__name__}: {exc}')
        self.close()
        return False

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}('{self.path}')"
