//! Every grpcurl command in a fenced block of every README (the root one and each crate's), run
//! with the real grpcurl against a fresh suite with the demo world, in README order, one shell
//! per README so signed-in tokens carry from block to block. A command answers OK unless a
//! comment `# → CODE` right above it names the status it answers with. The CA path and gateway
//! address the READMEs use are replaced by the suite's. Needs grpcurl (`MTM_GRPCURL`, else on
//! PATH): `make readme-commands` installs it and runs this test.

use std::path::{Path, PathBuf};

use crate::support::start_suite;

/// One command of a README and the status it should answer with (`None`: OK).
#[derive(Debug)]
struct Command {
    text: String,
    expect: Option<String>,
}

/// The READMEs of the workspace: the root one and one level down.
fn readmes() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = vec![root.join("README.md")];
    let mut crates: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("workspace root")
        .filter_map(|entry| Some(entry.ok()?.path().join("README.md")))
        .filter(|path| path.is_file())
        .collect();
    crates.sort();
    found.extend(crates);
    found
}

/// The grpcurl commands of the fenced blocks of `text`, continuation lines joined.
fn commands(text: &str) -> Vec<Command> {
    let mut found = Vec::new();
    let mut in_block = false;
    let mut expect = None;
    let mut pending = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            expect = None;
            continue;
        }
        if !in_block {
            continue;
        }
        if pending.is_empty()
            && let Some(code) = line.trim().strip_prefix("# → ")
        {
            expect = code.split([':', ' ']).next().map(str::to_owned);
            continue;
        }
        pending.push_str(line);
        pending.push('\n');
        if line.trim_end().ends_with('\\') {
            continue;
        }
        let command = std::mem::take(&mut pending);
        if command.contains("grpcurl ") {
            found.push(Command {
                text: command,
                expect: expect.take(),
            });
        } else {
            expect = None;
        }
    }
    found
}

/// `command` aimed at the suite: its CA file and its gateway address.
fn localized(command: &str, ca: &Path, gateway: &str) -> String {
    let mut out = Vec::new();
    let mut words = command.split(' ').peekable();
    while let Some(word) = words.next() {
        out.push(word.to_owned());
        if word == "-cacert" && words.next().is_some() {
            out.push(ca.display().to_string());
        }
    }
    out.join(" ")
        .replace("127.0.0.1:8443", gateway)
        .replace("localhost:8443", gateway)
}

/// The grpcurl to run: `MTM_GRPCURL`, else `grpcurl` on PATH.
fn grpcurl() -> PathBuf {
    if let Some(path) = std::env::var_os("MTM_GRPCURL") {
        return PathBuf::from(path);
    }
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("grpcurl"))
                .find(|candidate| candidate.is_file())
        })
        .expect("grpcurl: set MTM_GRPCURL or put it on PATH (make readme-commands installs it)")
}

/// grpcurl's spelling of a status code given as in the READMEs (`NOT_FOUND` → `NotFound`).
fn grpcurl_code(code: &str) -> String {
    code.split('_')
        .map(|part| {
            let lower = part.to_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// Runs `commands` in one bash and returns, per command, its exit status and output.
fn run(commands: &[String], grpcurl: &Path, workdir: &Path) -> Vec<(i32, String)> {
    let mut script = String::from("set -o pipefail\n");
    for (index, command) in commands.iter().enumerate() {
        script.push_str(&format!(
            "echo '@@@ begin {index}'\n{{ {command}\n}} 2>&1\necho \"@@@ end {index} $?\"\n"
        ));
    }
    let bin_dir = grpcurl.parent().expect("grpcurl's directory");
    let path = std::env::join_paths(std::iter::once(bin_dir.to_owned()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("PATH", path)
        .current_dir(workdir)
        .output()
        .expect("bash runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut results = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with("@@@ begin ") {
            current.clear();
        } else if let Some(rest) = line.strip_prefix("@@@ end ") {
            let status = rest
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(-1);
            results.push((status, std::mem::take(&mut current)));
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    results
}

#[tokio::test]
#[ignore = "needs the real grpcurl: make readme-commands"]
async fn readme_grpcurl_commands_answer_as_the_readmes_say() {
    let grpcurl = grpcurl();
    let (suite, dir) = start_suite(Vec::new()).await;
    let channel = suite.gateway_channel().await.expect("gateway channel");
    mtm_e2e::demo::seed(channel, &suite.operator_password_file)
        .await
        .expect("the demo world");
    let gateway = suite.gateway_addr.to_string();
    let mut failures = Vec::new();
    let mut ran = 0;
    for readme in readmes() {
        let text = std::fs::read_to_string(&readme).expect("readable README");
        let found = commands(&text);
        let localized: Vec<String> = found
            .iter()
            .map(|c| localized(&c.text, &suite.ca_file, &gateway))
            .collect();
        for ((command, (status, output)), script) in found
            .iter()
            .zip(run(&localized, &grpcurl, dir.path()))
            .zip(&localized)
        {
            ran += 1;
            let ok = match &command.expect {
                None => status == 0,
                Some(code) => {
                    status != 0 && output.contains(&format!("Code: {}", grpcurl_code(code)))
                }
            };
            if !ok {
                failures.push(format!(
                    "{}: expected {}, got exit {status}:\n{script}{output}",
                    readme.display(),
                    command.expect.as_deref().unwrap_or("OK")
                ));
            }
        }
    }
    suite.stop().await;
    assert!(ran >= 15, "only {ran} grpcurl commands found");
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
}

#[test]
fn commands_are_read_with_their_continuations_and_expected_codes() {
    let text = "text\n```sh\nTOKEN=$(grpcurl -cacert a.pem \\\n  1:2 x)\n# → NOT_FOUND: why\ngrpcurl b\nkubectl c\n```\n`grpcurl d` outside\n";
    let found = commands(text);
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0].text,
        "TOKEN=$(grpcurl -cacert a.pem \\\n  1:2 x)\n"
    );
    assert_eq!(found[0].expect, None);
    assert_eq!(found[1].expect.as_deref(), Some("NOT_FOUND"));
    assert_eq!(grpcurl_code("PERMISSION_DENIED"), "PermissionDenied");
    assert_eq!(
        localized(
            "grpcurl -cacert x.pem localhost:8443 list",
            Path::new("/ca.pem"),
            "1.2.3.4:5"
        ),
        "grpcurl -cacert /ca.pem 1.2.3.4:5 list"
    );
}
