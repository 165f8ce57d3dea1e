//! The work-tree state read with gitoxide, against the `git` binary as the oracle: the commit
//! time of directories of xz's real history (`git log -1 --format=%ct -- DIR`) and the
//! tracked changes of a work tree (`git status --porcelain`), plus the failure cases that must
//! never read as "clean".

use std::path::{Path, PathBuf};

use relkit_source::{ChangeKind, WorktreeError, commit_time_of_path, worktree_changes};

/// The `git` oracle in `dir`, with a fixed identity and no system or global configuration
/// (it sets up and checks test repositories; relkit itself never runs it).
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    relkit_testkit::oracle("git")?;
    let out = relkit_testkit::run_ok(
        std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null"),
    );
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// xz's real history (the bundle fixture of relkit-audit), checked out at `dir/xz`.
fn xz_checkout(dir: &Path) -> Option<PathBuf> {
    let bundle =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../relkit-audit/tests/fixtures/xz.bundle");
    git(
        dir,
        &[
            "clone",
            "-q",
            "--no-hardlinks",
            bundle.to_str().unwrap(),
            "xz",
        ],
    )?;
    let repo = dir.join("xz");
    git(&repo, &["checkout", "-q", "v5.4.1"])?;
    Some(repo)
}

/// Compares the commit time of each of `dirs` (those that exist) under `repo` with `git log -1
/// --format=%ct -- DIR`; returns how many were compared.
fn compare_commit_times(repo: &Path, dirs: &[&str]) -> usize {
    let mut compared = 0;
    for d in dirs {
        let dir = repo.join(d);
        if !dir.is_dir() {
            continue;
        }
        let expected = git(&dir, &["log", "-1", "--format=%ct", "--", "."]).unwrap();
        let expected: Option<i64> = expected.trim().parse().ok();
        assert_eq!(
            commit_time_of_path(&dir).unwrap(),
            expected,
            "commit time of {d:?} in {}",
            repo.display()
        );
        compared += 1;
    }
    compared
}

#[test]
fn commit_time_of_a_directory_is_what_git_log_says() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(repo) = xz_checkout(tmp.path()) else {
        return;
    };
    let dirs = [
        "",
        "src",
        "src/liblzma",
        "src/liblzma/check",
        "m4",
        "po",
        "po4a",
        "tests/files",
        "debug",
        "windows",
        "doc/examples",
        "dos",
        "extra",
    ];
    let compared = compare_commit_times(&repo, &dirs);
    assert!(compared >= 10, "only {compared} directories compared");

    // An untracked directory inside the work tree: no commit holds it.
    let untracked = repo.join("not-tracked");
    std::fs::create_dir(&untracked).unwrap();
    assert_eq!(commit_time_of_path(&untracked).unwrap(), None);
    // Not a work tree at all: a typed error, which the CLI takes as "no commit time".
    let plain = tempfile::tempdir().unwrap();
    assert!(matches!(
        commit_time_of_path(plain.path()),
        Err(WorktreeError::NotAWorktree { .. })
    ));
}

/// A shallow clone (`--depth`, as CI checkouts are) lacks its boundary commits' parents: the
/// commit time is still what `git log` says there, not an error about a missing commit.
#[test]
fn commit_time_in_a_shallow_clone_is_what_git_log_says() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(full) = xz_checkout(tmp.path()) else {
        return;
    };
    let url = format!("file://{}", full.display());
    git(
        tmp.path(),
        &[
            "clone", "-q", "--depth", "3", "--branch", "v5.4.1", &url, "shallow",
        ],
    )
    .unwrap();
    let repo = tmp.path().join("shallow");
    assert!(repo.join(".git/shallow").is_file(), "not a shallow clone");
    let dirs = [
        "",
        "src",
        "src/liblzma",
        "m4",
        "po",
        "doc/examples",
        "windows",
    ];
    let compared = compare_commit_times(&repo, &dirs);
    assert!(compared >= 5, "only {compared} directories compared");
    // An untracked directory of a shallow clone (pyenv's `versions/` in its `--depth 1`
    // checkout): no commit holds it.
    let untracked = repo.join("versions/3.11/lib");
    std::fs::create_dir_all(&untracked).unwrap();
    assert_eq!(commit_time_of_path(&untracked).unwrap(), None);
}

#[test]
fn tracked_changes_are_what_git_status_says() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(repo) = xz_checkout(tmp.path()) else {
        return;
    };
    assert_eq!(worktree_changes(&repo).unwrap(), vec![], "a fresh checkout");
    // Untracked files are not changes; ignored ones neither.
    std::fs::write(repo.join("untracked.txt"), "x\n").unwrap();
    assert_eq!(worktree_changes(&repo).unwrap(), vec![]);
    // Touching a file without changing it is not a change either (stat data only).
    let readme = repo.join("README");
    let bytes = std::fs::read(&readme).unwrap();
    std::fs::write(&readme, &bytes).unwrap();
    assert_eq!(worktree_changes(&repo).unwrap(), vec![]);

    std::fs::write(repo.join("src/xz/main.c"), "/* changed */\n").unwrap();
    std::fs::remove_file(repo.join("COPYING")).unwrap();
    std::fs::write(repo.join("NEWS"), "staged\n").unwrap();
    git(&repo, &["add", "NEWS"]).unwrap();
    std::fs::write(repo.join("added.c"), "int x;\n").unwrap();
    git(&repo, &["add", "added.c"]).unwrap();
    let mut perms = std::fs::metadata(repo.join("autogen.sh"))
        .unwrap()
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o644);
    std::fs::set_permissions(repo.join("autogen.sh"), perms).unwrap();

    let got: Vec<(String, ChangeKind)> = worktree_changes(&repo)
        .unwrap()
        .into_iter()
        .map(|c| (c.path, c.kind))
        .collect();
    let porcelain = git(&repo, &["status", "--porcelain=v1", "--untracked-files=no"]).unwrap();
    let mut expected: Vec<(String, ChangeKind)> = Vec::new();
    for line in porcelain.lines() {
        let (xy, path) = line.split_at(3);
        let (x, y) = (xy.as_bytes()[0], xy.as_bytes()[1]);
        if x != b' ' {
            expected.push((path.to_string(), ChangeKind::Staged));
        }
        match y {
            b' ' => {}
            b'D' => expected.push((path.to_string(), ChangeKind::Deleted)),
            _ => expected.push((path.to_string(), ChangeKind::Modified)),
        }
    }
    expected.sort();
    assert_eq!(got, expected, "git status said:\n{porcelain}");
    assert_eq!(got.len(), 5, "{got:?}");
}

#[test]
fn a_state_that_cannot_be_read_is_an_error_never_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let Some(repo) = xz_checkout(tmp.path()) else {
        return;
    };
    std::fs::write(repo.join(".git/index"), b"DIRC\0\0\0\x02garbage").unwrap();
    let err = worktree_changes(&repo).unwrap_err();
    assert!(matches!(err, WorktreeError::Read { .. }), "{err:?}");

    let plain = tempfile::tempdir().unwrap();
    assert!(matches!(
        worktree_changes(plain.path()),
        Err(WorktreeError::NotAWorktree { .. })
    ));
    let bare = tmp.path().join("bare.git");
    git(
        tmp.path(),
        &["init", "-q", "--bare", bare.to_str().unwrap()],
    )
    .unwrap();
    assert!(matches!(
        worktree_changes(&bare),
        Err(WorktreeError::Bare(_))
    ));
}
