"""Sample quality of the lesson GANs: Fréchet classifier distance, classes covered, KL to uniform, plus references.

For each recipe in ``image_gan.RECIPES`` the lesson's checkpoint is used when it exists, else a short run is trained
here (the row says so). References: training images and the test set blurred with σ = 1 px.

    python benchmarks/image_quality.py [--quick] [--json] [--samples 10000] [--train-steps 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from gan_course.core import checkpoints, runtime
from gan_course.training import image_gan
from gan_course.evaluation import image_metrics
from gan_course.data.fashion_mnist import load_fashion_mnist
from gan_course.models import dcgan

SEED = 0


def generator_for(recipe_name: str, train_steps: int, train_images) -> tuple[torch.nn.Module, str]:
    """The lesson's trained generator if its checkpoint exists, else a freshly trained short run."""
    path = checkpoints.checkpoint_path(image_gan.checkpoint_name(recipe_name))
    if path.is_file():
        try:
            state = checkpoints.load(path)
            generator = dcgan.DCGANGenerator()
            generator.load_state_dict(state["generator"])
            return generator, f"checkpoint {path.name}, {state['step']} steps"
        except (checkpoints.CheckpointError, KeyError, RuntimeError) as err:
            print(f"# {path} unusable ({err}); training a short run instead", file=sys.stderr)
    generator, discriminator, config = image_gan.RECIPES[recipe_name].build(train_steps, seed=SEED)
    run = image_gan.train_image_gan(generator, discriminator, train_images, config, progress=False)
    return generator, f"trained here, {run.step} steps, {run.seconds:.0f} s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1,000 samples, 20-step fallback runs, 2,000 images")
    parser.add_argument("--json", action="store_true", help="one JSON object per row")
    parser.add_argument("--samples", type=int, default=None, help="samples per row (default 10,000; quick 1,000)")
    parser.add_argument("--train-steps", type=int, default=None, help="steps of a fallback run (300; quick 20)")
    args = parser.parse_args(argv)
    samples = args.samples or (1000 if args.quick else 10_000)
    train_steps = args.train_steps or (20 if args.quick else 300)
    threads = runtime.set_threads()
    runtime.seed_everything(SEED)
    train_images = load_fashion_mnist("train", limit=2000 if args.quick else None).images
    start = time.perf_counter()
    evaluator = image_metrics.ImageEvaluator(reference_count=2000 if args.quick else None)
    rows, sources = dict(evaluator.references(count=samples)), {}
    for name in rows:
        sources[name] = "reference"
    for name, recipe in image_gan.RECIPES.items():
        generator, source = generator_for(name, train_steps, train_images)
        evaluation_start = time.perf_counter()
        rows[recipe.name] = evaluator.evaluate_generator(generator, count=samples, seed=SEED)
        rows[recipe.name]["seconds"] = time.perf_counter() - evaluation_start  # generate + classify + FCD
        sources[recipe.name] = f"{source}; evaluated in {rows[recipe.name]['seconds']:.1f} s"
    seconds = time.perf_counter() - start
    if args.json:
        for name, metrics in rows.items():
            print(json.dumps({"row": name, "source": sources[name], "fcd": metrics["fcd"],
                              "classes_covered": metrics["classes_covered"],
                              "kl_to_uniform": metrics["kl_to_uniform"], "samples": metrics["count"],
                              "evaluation_s": metrics.get("seconds"),
                              "threads": threads, "seed": SEED, "quick": args.quick}))
        return 0
    print(f"Image quality — {runtime.describe()}; {samples} samples per row, seed {SEED}, "
          f"test-set statistics of the lesson-04 classifier; {seconds:.0f} s")
    print(image_metrics.evaluation_table(rows))
    for name, source in sources.items():
        if source != "reference":
            print(f"  {name}: {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
