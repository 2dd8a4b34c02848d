//! Ending a process with everything it started, however the descendants grouped themselves.
//! A failing test unwinds through `Drop`, so nothing it started outlives it.

use std::collections::HashMap;

/// The parent of every live process, read from `/proc/<pid>/stat`.
fn parents() -> HashMap<u32, u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return HashMap::new() };
    dir.filter_map(|e| {
        let pid: u32 = e.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last ')'.
        let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
        Some((pid, ppid))
    })
    .collect()
}

/// `root` and all its descendants, parents first.
pub fn tree(root: u32) -> Vec<u32> {
    let parents = parents();
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, pp)| **pp == p).map(|(c, _)| *c));
        i += 1;
    }
    out
}

/// Stops `root`'s whole tree (SIGSTOP first, so nothing forks or respawns while it is read),
/// then kills it.
pub fn kill_tree(root: u32) {
    let pids = tree(root);
    signal(&pids, "-STOP");
    // Read again: a child forked between the first read and the stop is caught now.
    let pids = tree(root).into_iter().chain(pids).collect::<std::collections::BTreeSet<_>>();
    let pids: Vec<u32> = pids.into_iter().collect();
    signal(&pids, "-KILL");
}

fn signal(pids: &[u32], sig: &str) {
    if pids.is_empty() {
        return;
    }
    let _ = std::process::Command::new("kill")
        .arg(sig)
        .args(pids.iter().map(u32::to_string))
        .stderr(std::process::Stdio::null())
        .status();
}

#[cfg(test)]
mod tests {
    #[test]
    fn kills_grandchildren_in_other_groups() {
        use std::os::unix::process::CommandExt;
        // A shell that starts a grandchild in a new session, the way watchexec and Chromium do.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "setsid sleep 300 & sleep 300"])
            .process_group(0)
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let pids = loop {
            let t = super::tree(child.id());
            if t.len() >= 3 || std::time::Instant::now() > deadline {
                break t;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert!(pids.len() >= 3, "{pids:?}");
        super::kill_tree(child.id());
        let _ = child.wait();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while pids.iter().any(|p| alive(*p)) {
            assert!(std::time::Instant::now() < deadline, "still alive: {pids:?}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Alive and not a zombie waiting for its parent.
    fn alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().next()) != Some("Z"))
    }
}
