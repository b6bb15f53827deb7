//! `--help` works for the tool and for every command, and says how to use it.
#![allow(clippy::unwrap_used)] // tests may unwrap

use std::process::Command;

fn idem(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_idem")).args(args).output().unwrap()
}

#[test]
fn help_for_the_tool_lists_every_command() {
    for args in [&["--help"][..], &["help"], &["-h"]] {
        let out = idem(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        for command in ["broker", "consume", "demo", "produce"] {
            assert!(text.contains(command), "{args:?} does not mention {command}: {text}");
        }
    }
}

#[test]
fn help_for_every_command() {
    let expect: [(&str, &[&str]); 4] = [
        ("broker", &["--faults", "--topic"]),
        ("consume", &["--group", "--topic", "--count", "--idle-timeout", "COMMITS", "EXIT STATUS"]),
        ("demo", &["--records", "--seed", "--no-faults", "EXIT STATUS"]),
        ("produce", &["--bootstrap-servers", "--topic", "--key-separator", "--property", "EXIT STATUS"]),
    ];
    for (command, words) in expect {
        for flag in ["--help", "-h"] {
            let out = idem(&[command, flag]);
            assert!(out.status.success(), "{command} {flag}: {out:?}");
            let text = String::from_utf8(out.stdout).unwrap();
            assert!(text.contains(&format!("Usage: idem {command}")), "{command} {flag}: {text}");
            if flag == "--help" {
                for w in words {
                    assert!(text.contains(w), "{command} --help lacks {w}: {text}");
                }
            }
        }
        let out = idem(&["help", command]);
        assert!(out.status.success(), "help {command}: {out:?}");
    }
}

#[test]
fn bad_command_lines_exit_2_with_a_message() {
    for args in [&["frobnicate"][..], &["produce", "-t", "x"], &["demo", "--records", "many"], &[]] {
        let out = idem(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("error:") || err.contains("Usage: idem"), "{args:?}: {err}");
    }
}
