//! A small file system of a test's own, to run a database out of space.
//!
//! [`SmallDisk::mount`] mounts a tmpfs of a few megabytes on a new temporary directory
//! (this needs root, or the right to mount, as the tests have here); dropping it unmounts
//! it (lazily, so files still open do not keep it) and removes the directory. A test
//! fills it with [`SmallDisk::fill`] and frees it with [`SmallDisk::free`].

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::postgres::running_under_ci;

/// Why a small disk could not be had.
#[derive(Debug, thiserror::Error)]
pub enum DiskError {
    /// Mounting is not allowed or not possible here.
    #[error("cannot mount a small tmpfs here ({0}); tests of a full or read-only disk need root")]
    CannotMount(String),
    /// Another step failed.
    #[error("small disk: {step}: {source}")]
    Io {
        step: &'static str,
        #[source]
        source: io::Error,
    },
}

/// A mounted tmpfs of a fixed size.
#[derive(Debug)]
pub struct SmallDisk {
    dir: PathBuf,
}

/// The file that [`SmallDisk::fill`] grows until the disk is full.
const FILLER: &str = "filler";

impl SmallDisk {
    /// Mounts a tmpfs of `bytes` bytes on a new temporary directory.
    pub fn mount(bytes: u64) -> Result<SmallDisk, DiskError> {
        let dir = tempfile::Builder::new()
            .prefix("tessera-disk-")
            .tempdir()
            .map_err(|source| DiskError::Io {
                step: "creating the mount point",
                source,
            })?
            .keep();
        let size = format!("size={bytes},mode=0777");
        match mount(&["-t", "tmpfs", "-o", &size, "tmpfs"], &dir) {
            Ok(()) => Ok(SmallDisk { dir }),
            Err(reason) => {
                let _ = fs::remove_dir(&dir);
                Err(DiskError::CannotMount(reason))
            }
        }
    }

    /// The directory the file system is mounted on.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes a filler file until the disk is full; returns its size in bytes.
    pub fn fill(&self) -> Result<u64, DiskError> {
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(FILLER))
            .map_err(|source| DiskError::Io {
                step: "creating the filler file",
                source,
            })?;
        let block = vec![0u8; 4096];
        let mut written = 0u64;
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(error) if error.raw_os_error() == Some(28) => break, // ENOSPC
                Err(source) => {
                    return Err(DiskError::Io {
                        step: "filling the disk",
                        source,
                    })
                }
            }
        }
        // The last blocks of a page may still fit byte by byte.
        while let Ok(1) = file.write(&block[..1]) {
            written += 1;
        }
        Ok(written)
    }

    /// Removes the filler file, freeing the space it took.
    pub fn free(&self) -> Result<(), DiskError> {
        match fs::remove_file(self.dir.join(FILLER)) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(DiskError::Io {
                step: "removing the filler file",
                source,
            }),
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn mount(args: &[&str], dir: &Path) -> Result<(), String> {
    let output = Command::new("mount")
        .args(args)
        .arg(dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running mount: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// A small disk of `bytes` bytes, or `None` after a loud notice when mounting is not
/// possible here; under `CI=true` that panics instead. Any other failure panics.
pub fn small_disk(bytes: u64) -> Option<SmallDisk> {
    match SmallDisk::mount(bytes) {
        Ok(disk) => Some(disk),
        Err(DiskError::CannotMount(reason)) => {
            let message = format!(
                "full-disk tests SKIPPED: cannot mount a small tmpfs ({reason}); run as root"
            );
            if running_under_ci() {
                panic!("{message} (CI is set: on CI this is a failure, not a skip)");
            }
            let rule = "=".repeat(message.len().min(100));
            let _ = writeln!(io::stderr(), "\n{rule}\n{message}\n{rule}\n");
            None
        }
        Err(error) => panic!("{error}"),
    }
}
