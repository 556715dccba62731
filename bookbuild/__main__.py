import argparse
import shlex
import sys
import time

from bookbuild import FRAMEWORKS, REFERENCE, ROOT, BuildError

COMMANDS = {
    'notebooks': 'execute what changed',
    'book': 'execute what changed, build the editions and render the site',
    'check': 'fail if a committed notebook is stale or made by no lesson',
    'profile': "print a framework's numerics profile as shell exports",
    'editions': "build each framework's edition for readers",
    'lab': 'start JupyterLab on notebooks/ with one kernel per framework',
    'lock': 'resolve locks/NAME.in (a framework tag or "tooling") into locks/NAME.txt',
}


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python -m bookbuild',
        description='; '.join(f'{name}: {what}' for name, what in COMMANDS.items()))
    parser.add_argument('command', choices=COMMANDS)
    parser.add_argument('names', nargs='*', help='for lock: which locks to resolve; '
                        'for profile: which framework')
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != 'lab':
        parser.error(f'unrecognized arguments: {" ".join(extra)}')
    args.lab_options = extra  # passed on to JupyterLab, e.g. --port 8890
    try:
        return run(args)
    except BuildError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1


def run(args):
    if args.command == 'profile':
        from bookbuild.numerics import numerics_profile
        if len(args.names) != 1 or args.names[0] not in FRAMEWORKS:
            raise BuildError('profile takes one framework, e.g. `python -m bookbuild profile '
                             f'{REFERENCE}`; known: {", ".join(FRAMEWORKS)}')
        for key, value in numerics_profile(args.names[0]).items():
            print(f'export {key}={shlex.quote(value)}')
        return 0
    if args.command == 'lock':
        from bookbuild.environments import lock
        known = [*FRAMEWORKS, 'tooling']
        for name in args.names or known:
            if name not in known:
                raise BuildError(f'no lock called {name!r}; known: {", ".join(known)}')
            lock(name)
        return 0
    if args.command == 'lab':
        from bookbuild.environments import lab
        return lab(args.lab_options)
    if args.command == 'editions':
        from bookbuild.editions import build_editions
        for path in build_editions():
            print(f'wrote {path.relative_to(ROOT)}')
        return 0
    from bookbuild.execute import execute_stale, stale_notebooks
    if args.command == 'check':
        from bookbuild.lessons import orphan_notebooks
        stale, orphans = stale_notebooks(), orphan_notebooks()
        for source, framework, *_ in stale:
            print(f'stale: {source.relative_to(ROOT)} [{framework}]')
        for problem in orphans.values():
            print(f'no lesson: {problem}')
        return 1 if stale or orphans else 0
    started = time.perf_counter()
    executed = execute_stale()
    print(f'{executed} notebook(s) executed in {time.perf_counter() - started:.1f} s')
    if args.command == 'book':
        from bookbuild.render import render, stage
        stage()
        html = render()
        print(f'book rendered in {time.perf_counter() - started:.1f} s: {html / "index.html"}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
