"""Every edition installs, from PyPI's wheels, on the computers its README says it runs on,
with every Python it names; where it cannot (MXNet on macOS and Windows), its README and the
site say so.

A reader's `pip install -r requirements.txt` is checked with pip's own resolver, as if run on
that computer: `pip install --dry-run --only-binary=:all: --platform ... --python-version ...`
against PyPI alone (none of this machine's pip configuration), nothing installed. Two
things pip gets wrong for another platform are corrected in the pip process (PIP below):
it evaluates environment markers (`sys_platform == "win32"`, `python_version`) for the
machine it runs on, not for --platform (pip's own TODO in models/installation_report.py),
and its dry run downloads every wheel it would install, several GB here (pip#12603): it
reads each wheel's metadata only (PyPI's .metadata files, or the wheel's central directory
by range requests, `--use-feature=fast-deps`, for wheels without one, like torch's).
All dry runs go at once, in threads: 16 pip processes, about 150 CPU-seconds in all; the
test took 89 s and 150 s on a 2-core machine busy executing notebooks (most of it pip
reading ~120 projects' pages and wheels' metadata from PyPI, 14 times).
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from bookbuild import FRAMEWORKS
from bookbuild.editions import (EDITION_PLATFORMS, NVIDIA_PREFIXES, PLATFORM_ADDITIONS,
                                PLATFORMS, PYTHONS, SUPPORTED_PYTHONS, TORCH_CPU_INDEX,
                                canonical, locked_version, platforms_note, readme,
                                requirements)

INDEX = 'https://pypi.org/simple'

# Runs pip with the marker environment of the target platform and Python (argv[1], JSON),
# without completing the downloads of wheels whose metadata it has, and writes what it
# resolved to the file argv[2]: name, version, file and Requires-Python of each.
PIP = r'''
import json, runpy, sys
from pip._vendor.packaging import markers
target, report = json.loads(sys.argv.pop(1)), sys.argv.pop(1)
host = markers.default_environment
markers.default_environment = lambda: {**host(), **target}
from pip._internal.operations.prepare import RequirementPreparer
from pip._internal.resolution.resolvelib.resolver import Resolver
from pip._internal.models.direct_url import DirectUrl, ArchiveInfo
from pip._vendor.packaging.utils import canonicalize_name
from pip._internal.req.req_install import InstallRequirement

def metadata_only(self, reqs, parallel_builds=False):
    for req in reqs:
        if req.needs_more_preparation and req.download_info is None:
            req.download_info = DirectUrl(url=req.link.url_without_fragment, info=ArchiveInfo())
RequirementPreparer.prepare_linked_requirements_more = metadata_only
resolve = Resolver.resolve

def resolve_and_report(self, *args, **kwargs):
    req_set = resolve(self, *args, **kwargs)
    found, dists = [], {}
    for candidate in self._result.mapping.values():
        dist = getattr(candidate, 'dist', None)
        if dist is None:  # the Python of Requires-Python
            continue
        dists[dist.canonical_name] = dist
        found.append({'name': str(candidate.name), 'version': str(candidate.version),
                      'file': candidate.source_link.filename,
                      'requires_python': str(dist.requires_python)})
    for ireq in req_set.all_requirements:  # pip's "Would install" reads their metadata
        ireq.metadata_only_dist = dists[canonicalize_name(ireq.name)]
    with open(report, 'w') as out:
        json.dump(found, out)
    return req_set
Resolver.resolve = resolve_and_report
get_dist = InstallRequirement.get_dist
InstallRequirement.get_dist = lambda self: getattr(self, 'metadata_only_dist', None) or \
    get_dist(self)
# Only faster: a wheel's tags looked up in a set of the platform's (pip scans the list of
# several hundred for every file of every project it reads)
from pip._internal.models.wheel import Wheel
tag_sets = {}

def supported(self, tags):
    if id(tags) not in tag_sets:
        tag_sets[id(tags)] = (tags, frozenset(tags))
    return not self.file_tags.isdisjoint(tag_sets[id(tags)][1])
Wheel.supported = supported
sys.argv[0] = 'pip'
runpy.run_module('pip', run_name='__main__', alter_sys=True)
'''


def marker_environment(platform, python):
    full = python if python.count('.') == 2 else f'{python}.0'
    return {**platform.markers, 'python_version': '.'.join(full.split('.')[:2]),
            'python_full_version': full, 'implementation_version': full,
            'implementation_name': 'cpython', 'platform_python_implementation': 'CPython',
            'platform_release': '', 'platform_version': ''}


def dry_run(requirements_file, platform, python, workdir, *extra):
    """pip's dry run of `-r requirements_file` for a reader on `platform` with `python`:
    (pip's result, what it resolved or None, seconds)."""
    report = workdir / f'{requirements_file.stem}-{platform.key}-{python}.json'
    command = [sys.executable, '-c', PIP, json.dumps(marker_environment(platform, python)),
               str(report), 'install', '--dry-run', '--ignore-installed',
               '--only-binary=:all:', '--python-version', python, '--target',
               str(workdir / 'target'), '--index-url', INDEX, '--use-feature=fast-deps',
               '--disable-pip-version-check', '--no-color', '--progress-bar', 'off',
               *[option for tag in platform.tags for option in ('--platform', tag)],
               '-r', str(requirements_file), *extra]
    # PyPI alone, as a reader has it: no configuration file of this machine's (its extra
    # indexes, local wheels and constraints), none of its PIP_* settings
    env = {key: value for key, value in os.environ.items() if not key.startswith('PIP_')}
    env['PIP_CONFIG_FILE'] = os.devnull
    if 'PIP_CERT' in os.environ:  # how this machine reaches PyPI, not what it installs
        env['PIP_CERT'] = os.environ['PIP_CERT']
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    resolved = json.loads(report.read_text()) if result.returncode == 0 else None
    return result, resolved, seconds


SUPPORTED = [(framework, platform, python) for framework in FRAMEWORKS
             for platform in EDITION_PLATFORMS[framework] for python in PYTHONS]
UNSUPPORTED = [(framework, platform) for framework in FRAMEWORKS
               for platform in PLATFORMS if platform not in EDITION_PLATFORMS[framework]]


def case_id(*case):
    return '-'.join(getattr(part, 'key', part) for part in case)


@pytest.fixture(scope='module')
def resolutions(tmp_path_factory):
    """Every supported (edition, platform, Python) resolved, and the framework package alone
    on each unsupported platform, all at once."""
    workdir = tmp_path_factory.mktemp('platforms')
    files = {}
    for framework in FRAMEWORKS:
        files[framework] = workdir / f'{framework}.txt'
        files[framework].write_text(requirements(framework))
        # the package that makes a platform impossible, alone (no dependencies: fast)
        package = workdir / f'{framework}-alone.txt'
        package.write_text(f'{framework_package(framework)}=='
                           f'{locked_version(framework, framework_package(framework))}\n')
        files[framework, 'alone'] = package
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(len(SUPPORTED) + len(UNSUPPORTED)) as pool:
        futures = {case: pool.submit(dry_run, files[case[0]], case[1], case[2], workdir)
                   for case in SUPPORTED}
        futures.update({case: pool.submit(dry_run, files[case[0], 'alone'], case[1],
                                          PYTHONS[-1], workdir, '--no-deps')
                        for case in UNSUPPORTED})
        done = {case: future.result() for case, future in futures.items()}
    print(f'{len(done)} dry runs in {time.perf_counter() - started:.0f} s (longest '
          f'{max(seconds for *_, seconds in done.values()):.0f} s)')
    return done


def framework_package(framework):
    return {'pytorch': 'torch', 'tensorflow': 'tensorflow_cpu', 'mxnet': 'mxnet'}[framework]


def pinned_for(framework, platform, python):
    """{name: version} of what the edition's requirements.txt pins on that computer."""
    env = marker_environment(platform, python)
    pins = {}
    for line in requirements(framework).splitlines():
        if line.strip() and not line.startswith('#'):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(env):
                (specifier,) = requirement.specifier
                pins[canonical(requirement.name)] = specifier.version
    return pins


@pytest.mark.parametrize('framework,platform,python', SUPPORTED,
                         ids=[case_id(*case) for case in SUPPORTED])
def test_an_edition_resolves_to_wheels_where_its_readme_says_it_runs(resolutions, framework,
                                                                     platform, python):
    result, resolved, seconds = resolutions[framework, platform, python]
    assert result.returncode == 0, result.stderr[-3000:]
    assert all(item['file'].endswith('.whl') for item in resolved)
    versions = {canonical(item['name']): item['version'] for item in resolved}
    pinned = pinned_for(framework, platform, python)
    assert {name: versions.get(name) for name in pinned} == pinned
    added = set(versions) - set(pinned)
    text = ' '.join(readme(framework).split())
    if framework == 'pytorch' and platform.key == 'linux':
        # PyPI's torch for Linux is the CUDA build: the README says what it adds, and how to
        # install the CPU build the book ran with instead
        assert added and all(name.startswith(NVIDIA_PREFIXES) for name in added), added
        assert f'{len(added)} NVIDIA packages' in text
        assert f'torch=={versions["torch"]}+cpu --index-url {TORCH_CPU_INDEX}' in text
    else:
        assert added == set(PLATFORM_ADDITIONS.get(platform.key, {})), added
        for name in added:
            assert f'`{name}`' in text
    assert platform.name in text and SUPPORTED_PYTHONS in text
    print(f'{framework} on {platform.name}, Python {python}: {len(versions)} wheels, '
          f'{len(added)} not in the lock; {seconds:.0f} s')


@pytest.mark.parametrize('framework', FRAMEWORKS)
def test_the_readme_names_the_oldest_python_that_every_package_accepts(resolutions, framework):
    """3.11.5, not "3.11": soupsieve 4.1.2 requires 3.11.5, and pip refuses it to 3.11.4."""
    oldest = PYTHONS[0]
    result, resolved, _ = resolutions[framework, EDITION_PLATFORMS[framework][0], oldest]
    assert result.returncode == 0, result.stderr[-3000:]
    major, minor, patch = oldest.split('.')
    earlier = f'{major}.{minor}.{int(patch) - 1}'
    refusing = [item['name'] for item in resolved
                if earlier not in SpecifierSet(item['requires_python'])]
    assert refusing, f'every package accepts Python {earlier}: the README could say so'
    assert f'{minor}.{patch} or later' in SUPPORTED_PYTHONS
    assert SUPPORTED_PYTHONS in ' '.join(readme(framework).split())


@pytest.mark.parametrize('framework,platform', UNSUPPORTED,
                         ids=[case_id(*case) for case in UNSUPPORTED])
def test_where_an_edition_cannot_run_its_readme_and_the_site_say_so(resolutions, framework,
                                                                   platform):
    result, _, _ = resolutions[framework, platform]
    package = framework_package(framework)
    assert result.returncode != 0 and f'No matching distribution found for {package}' in \
        result.stderr, 'it installs there now: add the platform to EDITION_PLATFORMS'
    label = FRAMEWORKS[framework].label
    where = ' and '.join(p.name.split(' ')[0] for p in PLATFORMS
                         if p not in EDITION_PLATFORMS[framework])
    sentence = f'The {label} edition does not install on {where}'
    assert sentence in ' '.join(readme(framework).split())
    assert sentence in platforms_note()  # the home page's, next to the download links
