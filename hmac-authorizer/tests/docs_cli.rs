//! The docs against the real CLI: every `originsig …` command line in README.md (and the other
//! top-level documents) and `docs/**/*.md` is parsed by the clap definitions the binary uses (`Cli::try_parse_from`), so
//! an unknown subcommand or flag, a flag given to the wrong subcommand, a missing required
//! flag, or a subcommand that reads keys shown without its key source fails this test instead of
//! a reader. Placeholders (`<SecretArn>`, `…`) are values. Also:
//! the table of flags and the subcommands that take them (docs/reference/configuration.md) is
//! the clap definitions' truth.

// Test code: a panic is how a test fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};
use originsig_hmac_authorizer::cli::Cli;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate lives one level below the repository root")
        .to_path_buf()
}

/// The top-level Markdown files and every one under docs/ (sorted: stable failure output).
fn doc_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    // The top-level documents (README.md, SPEC.md, ARCHITECTURE.md, …) and the guides.
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "md"))
                .collect()
        })
        .unwrap_or_default();
    walk(&root.join("docs"), &mut files);
    files.sort();
    files
}

/// A command line found in a document, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    place: String,
    line: String,
}

impl Found {
    /// Prose names a subcommand in inline code (`originsig doctor`): with no flag it is a name,
    /// checked to exist (as `… --help`); a line in a code block is a command to run as shown.
    fn is_name_only(&self, inline: bool) -> bool {
        inline && !self.line.split_whitespace().any(|w| w.starts_with('-'))
    }
}

/// Command lines that start with `originsig`: in fenced code blocks (continuation lines joined,
/// `$ ` prompts dropped) and in inline code spans.
fn command_lines(name: &str, text: &str) -> Vec<Found> {
    let mut found = Vec::new();
    let mut in_fence = false;
    let mut pending: Option<(usize, String)> = None;
    // Prose is read a paragraph at a time: an inline code span may wrap onto the next line.
    let mut paragraph: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = raw.trim();
        if trimmed.starts_with("```") {
            in_fence = !in_fence;
            pending = None;
            inline_commands(name, paragraph.take(), &mut found);
            continue;
        }
        if in_fence {
            let (start, mut joined) = pending.take().unwrap_or((number, String::new()));
            joined.push_str(trimmed.strip_prefix("$ ").unwrap_or(trimmed));
            if let Some(head) = joined.strip_suffix('\\') {
                let mut head = head.trim_end().to_owned();
                head.push(' ');
                pending = Some((start, head));
                continue;
            }
            for command in commands_in(&joined) {
                found.push(Found {
                    place: format!("{name}:{start}"),
                    line: command,
                });
            }
        } else if trimmed.is_empty() || trimmed.starts_with('|') || trimmed.starts_with('#') {
            // Blank lines end a paragraph; a table row or a heading stands alone.
            inline_commands(name, paragraph.take(), &mut found);
            inline_commands(name, Some((number, trimmed.to_owned())), &mut found);
        } else {
            let (_, text) = paragraph.get_or_insert_with(|| (number, String::new()));
            text.push(' ');
            text.push_str(trimmed);
        }
    }
    inline_commands(name, paragraph.take(), &mut found);
    found
}

/// The `originsig` commands in the inline code spans of a paragraph that starts at `start`.
fn inline_commands(name: &str, paragraph: Option<(usize, String)>, found: &mut Vec<Found>) {
    let Some((start, text)) = paragraph else { return };
    for span in inline_code(&text) {
        for command in commands_in(span) {
            let mut found_here = Found {
                place: format!("{name}:{start}"),
                line: command,
            };
            if found_here.is_name_only(true) {
                found_here.line.push_str(" --help");
            }
            found.push(found_here);
        }
    }
}

/// The contents of the inline code spans of a piece of Markdown.
fn inline_code(line: &str) -> Vec<&str> {
    line.split('`').skip(1).step_by(2).collect()
}

/// The `originsig` commands of one shell line: split at `&&`, `||`, `;`, `|` (outside quotes)
/// and kept when the first word is `originsig` (or a path ending in `/originsig`).
fn commands_in(line: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut chars = line.chars().peekable();
    let mut push = |current: &mut String| {
        let command = current.trim().to_owned();
        let first = command.split_whitespace().next().unwrap_or("");
        if first == "originsig" || first.ends_with("/originsig") {
            commands.push(command);
        }
        current.clear();
    };
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (None, '#') if current.is_empty() || current.ends_with(' ') => break,
            (None, ';') => push(&mut current),
            (None, '&') if chars.peek() == Some(&'&') => {
                chars.next();
                push(&mut current);
            }
            (None, '|') if chars.peek() == Some(&'|') => {
                chars.next();
                push(&mut current);
            }
            // A `|` inside a word (`audit|attach`) is an alternative, not a pipe.
            (None, '|') if current.ends_with(' ') || chars.peek() == Some(&' ') => push(&mut current),
            (None, '>') if current.is_empty() || current.ends_with(' ') => {
                // A redirection (`> file`, not the end of `<SecretArn>`) ends what the command parses.
                push(&mut current);
                break;
            }
            (None, c) => current.push(c),
        }
    }
    push(&mut current);
    commands
}

/// Shell words (single and double quotes, no expansions). A placeholder `<…>` (no `<` inside)
/// is a value as the docs write it, taken literally: `https://<your distribution's domain>/`
/// is one word, its apostrophe no quote and its spaces no separators.
fn words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if quote.is_none() && c == '<' {
            let rest = &chars[i..];
            if let Some(end) = rest.iter().position(|&r| r == '<' || r == '>') {
                if rest[end] == '>' {
                    let placeholder = word.get_or_insert_with(String::new);
                    placeholder.push('<');
                    placeholder.extend(&rest[..=end]);
                    i += end + 1;
                    continue;
                }
            }
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_with(String::new).push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_with(String::new).push(c),
        }
    }
    if quote.is_some() {
        return Err("unbalanced quote".to_owned());
    }
    words.extend(word);
    Ok(words)
}

/// Every concrete command a documented line stands for: `[…]` is optional (with and without;
/// `[OPTIONS]` is dropped), `a|b` in one word is one of the alternatives.
fn variants(words: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new()];
    let mut index = 0;
    while index < words.len() {
        let word = &words[index];
        if word.starts_with('[') {
            // An optional group, possibly over several words: `[--wait SECS]`.
            let mut group = Vec::new();
            let mut depth = 0i32;
            while index < words.len() {
                let w = &words[index];
                depth += w.matches('[').count() as i32 - w.matches(']').count() as i32;
                group.push(w.trim_start_matches('[').trim_end_matches(']').to_owned());
                index += 1;
                if depth <= 0 {
                    break;
                }
            }
            let group: Vec<String> = group.into_iter().filter(|w| !w.is_empty()).collect();
            if group.iter().any(|w| w == "OPTIONS" || w == "COMMAND") {
                continue;
            }
            let inner = variants(&group);
            let mut next = Vec::new();
            for prefix in &out {
                next.push(prefix.clone());
                for tail in &inner {
                    let mut joined = prefix.clone();
                    joined.extend(tail.iter().cloned());
                    next.push(joined);
                }
            }
            out = next;
            continue;
        }
        let alternatives: Vec<&str> = if word.contains('|') && !word.starts_with('<') {
            word.split('|').collect()
        } else {
            vec![word.as_str()]
        };
        let mut next = Vec::new();
        for prefix in &out {
            for alternative in &alternatives {
                let mut joined = prefix.clone();
                joined.push((*alternative).to_owned());
                next.push(joined);
            }
        }
        out = next;
        index += 1;
    }
    out
}

fn is_placeholder(value: &str) -> bool {
    let value = value.trim_matches(|c| c == '\'' || c == '"');
    (value.starts_with('<') && value.ends_with('>'))
        || value.contains('…')
        || value.contains("...")
        || value.chars().all(|c| c.is_ascii_uppercase() || c == '_') && !value.is_empty()
}

/// Why clap refuses this command, or `None` when the docs are right about it.
fn refusal(args: &[String]) -> Option<String> {
    // A placeholder in the subcommand position (`originsig <command> --help`, `originsig …`) is
    // prose.
    if args.get(1).is_some_and(|a| is_placeholder(a)) {
        return None;
    }
    match Cli::try_parse_from(args) {
        Ok(_) => missing_key_source(args),
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => None,
            // `--wait <SECS>`: a placeholder where the real value is typed.
            ErrorKind::ValueValidation | ErrorKind::InvalidValue
                if matches!(error.get(ContextKind::InvalidValue),
                    Some(ContextValue::String(value)) if is_placeholder(value)) =>
            {
                None
            }
            _ => Some(error.render().to_string().lines().next().unwrap_or("").to_owned()),
        },
    }
}

/// The key-source flags are optional to clap (an environment variable may stand for them:
/// `KeySourceArgs::source` decides at run time), but a documented command is run as shown, so a
/// subcommand that reads keys needs `--secret-id` or `--key-file` on the line.
fn missing_key_source(args: &[String]) -> Option<String> {
    let mut command = Cli::command();
    let mut path = Vec::new();
    for arg in args.iter().skip(1) {
        if !command.has_subcommands() {
            break;
        }
        if let Some(sub) = command.find_subcommand(arg).cloned() {
            path.push(arg.as_str());
            command = sub;
        }
    }
    let reads_keys = command.get_arguments().any(|a| a.get_long() == Some("secret-id"));
    let named = args.iter().any(|a| {
        ["--secret-id", "--key-file"]
            .iter()
            .any(|flag| a == flag || a.starts_with(&format!("{flag}=")))
    });
    (reads_keys && !named).then(|| {
        format!(
            "error: no key source: `originsig {}` needs --secret-id or --key-file on the line \
             (without one it exits 2 unless ORIGINSIG_SECRET_ID or ORIGINSIG_KEY_FILE is set)",
            path.join(" ")
        )
    })
}

fn all_commands() -> Vec<Found> {
    let root = repo_root();
    let mut found = Vec::new();
    for file in doc_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
        found.extend(command_lines(&name, &text));
    }
    found
}

/// Every documented command, checked; the failures, one line each.
fn failures(found: &[Found]) -> Vec<String> {
    let mut failures = Vec::new();
    for command in found {
        // A usage synopsis (`originsig rotate [OPTIONS] <--secret-id <ID>|--key-file <PATH>>`,
        // as clap prints it) describes commands; it is not one.
        if command.line.contains("[OPTIONS]") || command.line.contains("<COMMAND>") {
            continue;
        }
        let words = match words(&command.line) {
            Ok(words) => words,
            Err(problem) => {
                failures.push(format!("{}: `{}`: {problem}", command.place, command.line));
                continue;
            }
        };
        for variant in variants(&words) {
            if let Some(why) = refusal(&variant) {
                failures.push(format!("{}: `{}`: {why}", command.place, variant.join(" ")));
            }
        }
    }
    failures
}

fn without_key_env() {
    // The clap definitions read these; a developer's shell must not change what the docs mean.
    for name in ["ORIGINSIG_SECRET_ID", "ORIGINSIG_KEY_FILE"] {
        std::env::remove_var(name);
    }
}

#[test]
fn every_documented_originsig_command_parses() {
    without_key_env();
    let found = all_commands();
    assert!(
        found.len() >= 10,
        "expected the docs to show originsig commands, found {}: {found:?}",
        found.len()
    );
    let failures = failures(&found);
    assert!(
        failures.is_empty(),
        "documented originsig commands the CLI refuses (fix the docs or the CLI):\n{}",
        failures.join("\n")
    );
}

#[test]
fn the_checker_refuses_what_the_cli_refuses() {
    without_key_env();
    let doc = "\
Text `originsig status --secret-id <SecretArn>` and `originsig timing --jsn`.
A span that wraps: `originsig rotate
--frce` twice.

```sh
originsig rotate --secret-id <SecretArn> \\
    --wait <SECS> --test-url https://d.example/health   # comment --bogus
originsig launch --secret-id x
$ originsig sign --key-file k.json --url https://h/x | head -1
originsig routes audit|attach --api-id <ApiId> [--nope]
originsig verify --url https://h/x --header '…'
originsig rotate [OPTIONS] <--secret-id <ID>|--key-file <PATH>>
originsig rotate --key-file k.json --test-url https://<your distribution's domain>/ --nope
```
";
    let found = command_lines("doc.md", doc);
    let lines: Vec<&str> = found.iter().map(|f| f.line.as_str()).collect();
    assert_eq!(
        lines,
        [
            "originsig status --secret-id <SecretArn>",
            "originsig timing --jsn",
            "originsig rotate --frce",
            "originsig rotate --secret-id <SecretArn> --wait <SECS> --test-url https://d.example/health",
            "originsig launch --secret-id x",
            "originsig sign --key-file k.json --url https://h/x",
            "originsig routes audit|attach --api-id <ApiId> [--nope]",
            "originsig verify --url https://h/x --header '…'",
            "originsig rotate [OPTIONS] <--secret-id <ID>|--key-file <PATH>>",
            "originsig rotate --key-file k.json --test-url https://<your distribution's domain>/ --nope",
        ]
    );
    assert_eq!(
        found[3].place, "doc.md:6",
        "a continued line is reported where it starts"
    );
    let failures = failures(&found);
    let failed: Vec<&str> = failures
        .iter()
        .map(|f| f.split('`').nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        failed,
        [
            "originsig timing --jsn",                         // unknown flag
            "originsig rotate --frce",                        // in a span that wraps
            "originsig launch --secret-id x",                 // unknown subcommand
            "originsig routes audit --api-id <ApiId> --nope", // unknown flag in an optional group
            "originsig routes attach --api-id <ApiId> --nope",
            "originsig verify --url https://h/x --header …", // no key source
            // a placeholder with an apostrophe and spaces is one value: the unknown flag is found
            "originsig rotate --key-file k.json --test-url https://<your distribution's domain>/ --nope",
        ],
        "{failures:#?}"
    );
    assert!(failures[0].starts_with("doc.md:1: "), "{failures:#?}");
    assert!(
        failures[6].ends_with("unexpected argument '--nope' found"),
        "the placeholder is read as one value, so the unknown flag is what fails: {failures:#?}"
    );
}

#[test]
fn a_placeholder_is_one_word_whatever_it_contains() {
    assert_eq!(
        words("x --test-url https://<your distribution's domain>/ 'a b' <ID>|<PATH>>").unwrap(),
        [
            "x",
            "--test-url",
            "https://<your distribution's domain>/",
            "a b",
            "<ID>|<PATH>>"
        ]
    );
    assert_eq!(words("a 'b").unwrap_err(), "unbalanced quote");
}

/// `| flag | subcommands |` tables: each row names a flag and exactly the subcommands that take
/// it (`routes audit` for nested ones).
fn flag_tables(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut rows = BTreeMap::new();
    let mut in_table = false;
    for line in text.lines() {
        let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
        if !line.trim_start().starts_with('|') {
            in_table = false;
            continue;
        }
        if cells.len() >= 2 && cells[0] == "flag" && cells[1] == "subcommands" {
            in_table = true;
            continue;
        }
        if in_table && cells[0].chars().all(|c| c == '-' || c == ':') {
            continue; // the |---|---| line
        }
        if in_table {
            let flag = cells[0]
                .trim_matches('`')
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_owned();
            let subcommands = cells[1]
                .split(',')
                .map(|s| s.trim().trim_matches('`').to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            rows.insert(flag, subcommands);
        }
    }
    rows
}

/// For each long flag, the (nested) subcommands of the real CLI that take it.
fn flags_of_cli() -> BTreeMap<String, BTreeSet<String>> {
    fn walk(command: &clap::Command, path: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
        for sub in command.get_subcommands() {
            let name = if path.is_empty() {
                sub.get_name().to_owned()
            } else {
                format!("{path} {}", sub.get_name())
            };
            if sub.has_subcommands() {
                walk(sub, &name, out);
            } else {
                for arg in sub.get_arguments() {
                    if let Some(long) = arg.get_long() {
                        out.entry(format!("--{long}")).or_default().insert(name.clone());
                    }
                }
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(&Cli::command(), "", &mut out);
    out
}

#[test]
fn documented_flag_tables_match_the_cli() {
    let root = repo_root();
    let cli = flags_of_cli();
    let mut checked = 0;
    let mut problems = Vec::new();
    for file in doc_files(&root) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let name = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
        for (flag, documented) in flag_tables(&text) {
            checked += 1;
            let actual = cli.get(&flag).cloned().unwrap_or_default();
            if documented != actual {
                problems.push(format!(
                    "{name}: {flag}: documented {documented:?}, the CLI has {actual:?}"
                ));
            }
        }
        for (number, line) in text.lines().enumerate() {
            if line.contains("every subcommand takes") || line.contains("Every subcommand takes") {
                problems.push(format!(
                    "{name}:{}: name the subcommands instead of \"every subcommand\"",
                    number + 1
                ));
            }
        }
    }
    assert!(
        checked >= 2,
        "expected a `| flag | subcommands |` table in the docs"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_flag_table_checker_reads_tables() {
    let table = "\
| flag | subcommands | meaning |
|---|---|---|
| `--key-file PATH` | `init`, `status` | a file |
| `--api-id` | `routes audit`, `routes attach` | |

after";
    let rows = flag_tables(table);
    assert_eq!(
        rows["--key-file"],
        BTreeSet::from(["init".to_owned(), "status".to_owned()])
    );
    assert_eq!(
        rows["--api-id"],
        BTreeSet::from(["routes audit".to_owned(), "routes attach".to_owned()])
    );
    let cli = flags_of_cli();
    assert!(cli["--key-file"].contains("status"));
    assert!(
        !cli["--key-file"].contains("routes audit"),
        "routes reads no keys"
    );
    assert_ne!(
        rows["--key-file"], cli["--key-file"],
        "a wrong table differs from the CLI"
    );
}
