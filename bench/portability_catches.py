"""Does the portability test still catch a CPU-dependent kernel? Put Keras's `rsqrt` back
into the DCGAN lesson's TensorFlow batch normalisation (a copy of the lesson, in a temporary
folder) and run the portability test's DCGAN short run natively and on the emulated
Haswell, as committed and with the `rsqrt`; print whether the two runs print the same.

    .venv/bin/python bench/portability_catches.py      # about 5 minutes

Expected: the committed lesson the same natively and emulated, the `rsqrt` one not. That
needs a CPU whose approximate reciprocal square root rounds otherwise than QEMU's (the AMD
EPYCs of issues 26 and 30 did); on others the `rsqrt` one can come out the same too.
"""
import tempfile
from pathlib import Path

from bookbuild import CHAPTERS
from bookbuild.execute import checked_env, execute
from bookbuild.lessons import short_run
from bookbuild.numerics import PORTABILITY_RUNS, SHARED_CORES_ENV, fingerprint

EXACT = '(x - mean) / tf.sqrt(var + self.epsilon) * self.gamma + self.beta'
APPROXIMATE = '(x - mean) * tf.math.rsqrt(var + self.epsilon) * self.gamma + self.beta'


def outputs(lesson, emulated, folder):
    folder.mkdir()
    settings = {**checked_env('tensorflow'), **SHARED_CORES_ENV,
                'D2LSHIM_ARTIFACTS': str(folder)}
    nb = short_run(lesson, 'tensorflow', **PORTABILITY_RUNS['dcgan'])
    return fingerprint(execute(nb, 'tensorflow', folder, f'{lesson.parent.name} dcgan',
                               emulated=emulated, settings=settings))


def main():
    text = (CHAPTERS / 'dcgan.md').read_text()
    if EXACT not in text:
        raise SystemExit('the DCGAN lesson no longer divides by tf.sqrt: update EXACT')
    work = Path(tempfile.mkdtemp())
    for name, source in {'committed': text, 'rsqrt': text.replace(EXACT, APPROXIMATE)}.items():
        lesson = work / name / 'dcgan.md'
        lesson.parent.mkdir()
        lesson.write_text(source)
        native, emulated = (outputs(lesson, e, lesson.parent / str(e)) for e in (False, True))
        differing = sum(a != b for a, b in zip(native, emulated))
        print(f'{name:>9}: native and emulated outputs the same: {native == emulated} '
              f'({differing} of {len(native)} outputs differ)', flush=True)


if __name__ == '__main__':
    main()
