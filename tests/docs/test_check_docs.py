"""Each check of check_docs.py fails on a small repository with that defect, and passes once fixed.

    python3 -m unittest tests/docs/test_check_docs.py
"""

import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_docs  # noqa: E402

OBSERVABILITY = '''pub fn emf_line() {
    json!({"_aws": {"CloudWatchMetrics": [{
        "Dimensions": [["Deployment", "Decision"], ["Deployment", "Decision", "Reason"]],
    }]}})
}
'''
CHECKS = '''Err(format!(
    "GET {url} through CloudFront answered {status}, expected 2xx"
))
'''
CONFIG = 'pub const LOG_LEVEL: &str = "ORIGINSIG_LOG_LEVEL";\n'

GOOD_README = """# Demo

See [the guide](docs/guide.md#the-timing-model) and [Setup](#set-up-step-1).
<!-- protect-your-api:begin --><!-- protect-your-api:end -->

## Set up: step 1

`ORIGINSIG_LOG_LEVEL` sets the level; `infra/edge.yaml` is the template. Metric dimensions
`[Deployment, Decision]`. A test URL (`RotatorTestUrl`) must answer 2xx.
"""
GUIDE = ("# Guide\n\n## The timing model\n\n| timing.json | default |\n|---|---|\n| `maxAgeSecs` | 60 |\n"
         "| `edgeMaxStaleSecs` | 3,600 |\n\n```sh\n[broken](nowhere.md)  # code is not checked\n```\n")
TIMING = '{"maxAgeSecs": 60, "edgeMaxStaleSecs": 3600}\n'


class Repo:
    """A throwaway repository with the files the checks read."""

    def __init__(self, files):
        self.dir = tempfile.TemporaryDirectory()
        self.root = Path(self.dir.name)
        base = {
            "hmac-authorizer/src/observability.rs": OBSERVABILITY,
            "hmac-authorizer/src/checks.rs": CHECKS,
            "hmac-authorizer/src/config.rs": CONFIG,
            "infra/edge.yaml": "Parameters: {}\n",
            "infra/timing.json": TIMING,
            "README.md": GOOD_README,
            "docs/guide.md": GUIDE,
        }
        base.update(files)
        for name, text in base.items():
            if text is None:
                continue
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")

    def problems(self):
        return check_docs.run(self.root)

    def close(self):
        self.dir.cleanup()


class CheckDocsTest(unittest.TestCase):
    def problems_with(self, files):
        repo = Repo(files)
        self.addCleanup(repo.close)
        return repo.problems()

    def test_a_consistent_repository_passes(self):
        self.assertEqual(self.problems_with({}), [])

    def test_a_link_to_a_missing_file_fails(self):
        problems = self.problems_with({"README.md": GOOD_README + "\n[gone](docs/operations.md)\n"})
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("links: README.md:11: link to docs/operations.md", problems[0])

    def test_a_link_to_a_missing_anchor_fails(self):
        problems = self.problems_with({"README.md": GOOD_README.replace("#the-timing-model", "#timing")})
        self.assertEqual(problems, ["links: README.md:3: link to docs/guide.md#timing: no heading with anchor #timing in docs/guide.md"])

    def test_a_documented_variable_the_code_does_not_read_fails(self):
        problems = self.problems_with({"docs/guide.md": GUIDE + "\n`ORIGINSIG_LOG_LEVL`\n"})
        self.assertEqual(problems, ["variables: docs/guide.md:14: ORIGINSIG_LOG_LEVL is not read by any code"])

    def test_a_variable_the_code_reads_but_no_doc_names_fails(self):
        problems = self.problems_with({"hmac-authorizer/src/config.rs": CONFIG + 'const X: &str = "ORIGINSIG_NEW_KNOB";\n'})
        self.assertEqual(problems, ["variables: hmac-authorizer/src/config.rs: ORIGINSIG_NEW_KNOB is not documented "
                                    "(add it to docs/reference/configuration.md)"])

    def test_a_path_that_does_not_exist_fails_in_docs_and_in_code_comments(self):
        problems = self.problems_with({
            "docs/guide.md": GUIDE + "\nRun `infra/test_infra_scripts.py`.\n",
            "infra/lib.sh": "# see infra/missing.py and ../tests/common/mod.rs\n",
        })
        self.assertEqual(problems, [
            "paths: docs/guide.md:14: `infra/test_infra_scripts.py` does not exist",
            "paths: infra/lib.sh:1: names infra/missing.py, which does not exist",
        ])

    def test_a_generated_file_git_ignores_may_be_named_but_nothing_else_hides_behind_it(self):
        named = {"docs/guide.md": GUIDE + "\nDeploy `infra/edge.rendered.yaml`.\n",
                 "infra/lib.sh": "# writes infra/edge.rendered.yaml\n"}
        self.assertEqual(self.problems_with({**named, ".gitignore": "/infra/edge.rendered.yaml\n"}), [])
        self.assertEqual(self.problems_with({**named, ".gitignore": "*.yaml\ninfra/edge.rendered.yaml\n"}), [
            "paths: docs/guide.md:14: `infra/edge.rendered.yaml` does not exist",
            "paths: infra/lib.sh:1: names infra/edge.rendered.yaml, which does not exist",
        ])

    def test_architecture_paths_resolve_inside_their_section(self):
        architecture = "# A\n\n### `hmac-authorizer/` — x\n\n| `bin/key-rotator.rs` | `malformed/event_unreadable` |\n"
        self.assertEqual(self.problems_with({"ARCHITECTURE.md": architecture,
                                             "hmac-authorizer/src/bin/key-rotator.rs": "fn main() {}\n"}), [])
        self.assertEqual(self.problems_with({"ARCHITECTURE.md": architecture}),
                         ["paths: ARCHITECTURE.md:5: `bin/key-rotator.rs` does not exist"])

    def test_dimensions_the_authorizer_does_not_emit_fail(self):
        problems = self.problems_with({"README.md": GOOD_README.replace("[Deployment, Decision]", "[Decision]")})
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("dimension set [Decision] is not emitted", problems[0])

    def test_an_edge_zip_size_that_is_not_the_built_one_fails(self):
        problems = self.problems_with({"docs/guide.md": GUIDE + "\n`edge-signer.zip` (about 35 KB)\n"})
        self.assertEqual(len(problems), 1, problems)
        self.assertIn("zip size: docs/guide.md:14: states the edge zip is 35 KB", problems[0])
        built = {"docs/guide.md": GUIDE + "\n`edge-signer.zip` (about 35 KB)\n",
                 "target/lambda/edge-signer/edge-signer.zip": "x" * 35_500}
        self.assertEqual(self.problems_with(built), [])

    def test_a_test_url_answer_the_check_does_not_accept_fails(self):
        problems = self.problems_with({"infra/edge.yaml": "    Description: RotatorTestUrl must answer 2xx/3xx\n"})
        self.assertEqual(problems, ["test URL: infra/edge.yaml:1: says a test URL must answer 2xx/3xx; "
                                    "hmac-authorizer/src/checks.rs expects 2xx"])

    def test_a_timing_table_that_is_not_the_model_fails(self):
        problems = self.problems_with({"infra/timing.json": '{"maxAgeSecs": 90, "edgeMaxStaleSecs": 3600, "newSecs": 1}'})
        self.assertEqual(problems, ["timing: docs/guide.md:7: maxAgeSecs is 90 in infra/timing.json, not 60",
                                    "timing: infra/timing.json: newSecs is in no `| timing.json | default |` table of the docs"])

    def test_a_section_named_in_code_that_the_docs_lack_fails(self):
        problems = self.problems_with({"infra/edge.yaml": 'Description: see (README, "Set up: step 1") and (docs/guide.md, "Timing")\n'})
        self.assertEqual(problems, ['sections: infra/edge.yaml:1: names the section "Timing" of docs/guide.md, which has no such heading'])

    def test_a_price_that_is_not_the_benchmarks_figure_fails(self):
        readme = GOOD_README + "\nAbout **$0.81 per million** requests.\n"
        self.assertEqual(self.problems_with({"README.md": readme, "BENCHMARKS.md": "| originsig | $0.81 | $808 |\n"}), [])
        problems = self.problems_with({"README.md": readme, "BENCHMARKS.md": "| originsig | $0.83 | $828 |\n"})
        self.assertEqual(problems, ["prices: README.md:11: $0.81 per million/billion is not in BENCHMARKS.md's cost table"])

    def test_an_aws_cli_command_in_the_docs_fails(self):
        guide = GUIDE + "\nRoll back with `aws secretsmanager update-secret-version-stage --secret-id x`.\n\n```sh\naws sts get-caller-identity\n```\nThe aws-cdk-lib and `aws4` packages, AWS CLI free.\n"
        problems = self.problems_with({"docs/guide.md": guide})
        self.assertEqual([p.split(": `")[0] for p in problems],
                         ["no AWS CLI: docs/guide.md:14", "no AWS CLI: docs/guide.md:17"])

    def test_a_front_page_without_the_quickstart_markers_or_with_a_long_quickstart_fails(self):
        self.assertEqual(self.problems_with({"README.md": GOOD_README.replace("<!-- protect-your-api:end -->", "")}),
                         ["front page: README.md: needs exactly one <!-- protect-your-api:begin --> … "
                          "<!-- protect-your-api:end --> block (the protect-your-api quickstart)"])
        long_block = "\n```sh\n" + "".join(f"step{i}\n" for i in range(11)) + "```\n"
        readme = GOOD_README.replace("<!-- protect-your-api:end -->", long_block + "<!-- protect-your-api:end -->")
        self.assertEqual(self.problems_with({"README.md": readme}),
                         ["front page: README.md: the protect-your-api block has 11 command lines; at most 10 (move the rest to docs/)"])

    def test_a_bundle_command_its_parser_refuses_fails(self):
        bundle = ("import argparse\n"
                  "def parse_args(argv):\n"
                  "    parser = argparse.ArgumentParser()\n"
                  "    parser.add_argument('--secret-id')\n"
                  "    parser.add_argument('--region')\n"
                  "    return parser.parse_args(argv)\n")
        guide = GUIDE + "\n```sh\nedge-signer/bundle.py --secret-id s --region us-east-1\npython3 edge-signer/bundle.py --secret-id s --regoin x\n```\n"
        problems = self.problems_with({"edge-signer/bundle.py": bundle, "docs/guide.md": guide})
        self.assertEqual(len(problems), 1, problems)
        table = "\n| field | option | meaning |\n|---|---|---|\n| `region` | `--region` | r |\n| `ttl` | `--cache-ttl` | t |\n"
        self.assertEqual(self.problems_with({"edge-signer/bundle.py": bundle, "docs/guide.md": GUIDE + table}),
                         ["bundle commands: docs/guide.md:17: --cache-ttl is not an option of edge-signer/bundle.py"])
        self.assertTrue(problems[0].startswith("bundle commands: docs/guide.md:16: `python3 edge-signer/bundle.py --secret-id s --regoin x`"), problems)
        self.assertIn("unrecognized arguments: --regoin x", problems[0])

    def test_a_timing_entry_named_in_prose_that_the_model_lacks_fails(self):
        problems = self.problems_with({"docs/guide.md": GUIDE + "\nDefault: `edgeCacheTtlSecs`.\n"})
        self.assertEqual(problems, ["timing: docs/guide.md:14: `edgeCacheTtlSecs` is not an entry of infra/timing.json"])

    def test_github_slugs(self):
        self.assertEqual(check_docs.slug("Keys: `originsig` and the rotator"), "keys-originsig-and-the-rotator")
        self.assertEqual(check_docs.slug("AWSCURRENT, AWSPENDING, AWSPREVIOUS"), "awscurrent-awspending-awsprevious")
        self.assertEqual(check_docs.slug("Which protection should I use?"), "which-protection-should-i-use")
        self.assertEqual(check_docs.anchors("# A\n## Same\n## Same\n"), {"a", "same", "same-1"})


if __name__ == "__main__":
    unittest.main()
