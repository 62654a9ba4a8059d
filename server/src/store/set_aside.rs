//! Moving a damaged store out of the way without losing anything: under a
//! name no file has yet, with its `-wal` and `-shm` beside it under the
//! same name, so SQLite still pairs them and the last commits the WAL
//! holds can be recovered by hand. (Deleting the WAL would lose them.)

use std::fs::OpenOptions;
use std::io::{self, ErrorKind};
use std::path::{Path, PathBuf};

/// The files SQLite keeps for one database, by suffix of its name.
const COMPANIONS: [&str; 3] = ["", "-wal", "-shm"];

/// Move `path` and its `-wal`/`-shm` to `<path>.corrupt-<seconds>`, or
/// `.corrupt-<seconds>.2`, `.3`, … when that name is taken. Returns the
/// new name of the database.
pub fn move_aside(path: &Path) -> io::Result<PathBuf> {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    move_aside_at(path, now)
}

fn move_aside_at(path: &Path, seconds: u64) -> io::Result<PathBuf> {
    let present: Vec<&str> = COMPANIONS.into_iter().filter(|suffix| named(path, suffix).exists()).collect();
    for attempt in 1u64.. {
        let counter = if attempt == 1 { String::new() } else { format!(".{attempt}") };
        let aside = PathBuf::from(format!("{}.corrupt-{seconds}{counter}", path.display()));
        if reserve(&aside, &present)? {
            for suffix in &present {
                std::fs::rename(named(path, suffix), named(&aside, suffix))?;
            }
            return Ok(aside);
        }
    }
    unreachable!("the attempts outnumber the files a directory can hold")
}

fn named(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// Claim `aside` (and the companions to move) by creating each empty, only
/// if no file has its name yet, so that the renames that follow replace
/// nothing but these placeholders. `false`, leaving nothing behind, when
/// a name is taken.
fn reserve(aside: &Path, suffixes: &[&str]) -> io::Result<bool> {
    let mut made = Vec::new();
    for suffix in suffixes {
        let name = named(aside, suffix);
        match OpenOptions::new().write(true).create_new(true).open(&name) {
            Ok(_) => made.push(name),
            Err(e) => {
                for placeholder in &made {
                    let _ = std::fs::remove_file(placeholder);
                }
                return if e.kind() == ErrorKind::AlreadyExists { Ok(false) } else { Err(e) };
            }
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_set_asides_in_the_same_second_keep_both_with_their_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let mut names = Vec::new();
        for content in ["first", "second"] {
            std::fs::write(&path, content).unwrap();
            std::fs::write(named(&path, "-wal"), format!("{content} wal")).unwrap();
            names.push(move_aside_at(&path, 1000).unwrap());
        }
        assert_ne!(names[0], names[1]);
        for (name, content) in names.iter().zip(["first", "second"]) {
            assert_eq!(std::fs::read_to_string(name).unwrap(), content);
            assert_eq!(std::fs::read_to_string(named(name, "-wal")).unwrap(), format!("{content} wal"));
            assert!(!named(name, "-shm").exists(), "no placeholder is left for a file that was not there");
        }
        assert!(!path.exists() && !named(&path, "-wal").exists());
    }
}
