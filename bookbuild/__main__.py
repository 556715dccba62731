import argparse
import shlex
import sys
import time

from bookbuild import ROOT
from bookbuild.execute import BuildError, execute_stale, stale_notebooks
from bookbuild.numerics import NUMERICS_PROFILE


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m bookbuild', description=__doc__)
    parser.add_argument('command', choices=['notebooks', 'book', 'check', 'profile'],
                        help='notebooks: execute what changed; book: also render the site; '
                             'check: fail if a committed notebook is stale; profile: print '
                             'the numerics profile as shell exports')
    args = parser.parse_args(argv)
    if args.command == 'profile':
        for key, value in NUMERICS_PROFILE.items():
            print(f'export {key}={shlex.quote(value)}')
        return 0
    if args.command == 'check':
        stale = stale_notebooks()
        for source, framework, *_ in stale:
            print(f'stale: {source.relative_to(ROOT)} [{framework}]')
        return 1 if stale else 0
    started = time.perf_counter()
    try:
        executed = execute_stale()
    except BuildError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'{executed} notebook(s) executed in {time.perf_counter() - started:.1f} s')
    if args.command == 'book':
        from bookbuild.render import render, stage
        stage()
        html = render()
        print(f'book rendered in {time.perf_counter() - started:.1f} s: {html / "index.html"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
