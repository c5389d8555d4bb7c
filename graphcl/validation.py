r"""Checks of scalar arguments shared across graphcl, with messages that say
what was wrong and what is expected."""
__all__ = ['check_int']


def check_int(value, name: str, minimum: int = 1, what: str = '') -> int:
    r"""Returns :obj:`value` if it is an ``int`` (not a ``bool``) of at least
    :obj:`minimum`, else raises a :class:`ValueError` naming :obj:`name`
    (and :obj:`what` it counts, when given)."""
    if isinstance(value, bool) or not isinstance(value, int) or \
            value < minimum:
        need = ('a positive integer' if minimum == 1 else
                f'an integer >= {minimum}')
        what = f' ({what})' if what else ''
        raise ValueError(f"{name} must be {need}{what}, got {value!r}")
    return value
