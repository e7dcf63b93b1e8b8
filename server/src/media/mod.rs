//! The object store that photos and captures go through.
//!
//! [`Media`] wraps an [`object_store::ObjectStore`]: a local directory under
//! the data dir by default; an S3-compatible bucket when `s3_bucket` is
//! configured ([`Media::open`] chooses). Callers only `put`, `get` and
//! `delete` by key and never learn which. Keys are opaque paths such as
//! `photos/<child>/<photo>.jpg`; nothing is ever served by a public URL — only
//! through authorised endpoints (the bucket needs no public access at all).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use bytes::Bytes;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;

#[derive(Clone, Debug)]
pub struct Media {
    store: Arc<dyn ObjectStore>,
    /// The directory of a local store: each object written there is made 0600.
    local_dir: Option<PathBuf>,
}

impl Media {
    /// The configured store: the S3 bucket when one is named, else the local
    /// media directory.
    pub fn open(config: &Config) -> anyhow::Result<Media> {
        match &config.s3_bucket {
            Some(bucket) => Media::s3(bucket, config),
            None => Media::local(&config.media_dir()),
        }
    }

    /// A store in an S3 bucket (AWS or any S3-compatible server). Without
    /// configured keys, object_store uses the instance's own credentials.
    pub fn s3(bucket: &str, config: &Config) -> anyhow::Result<Media> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_allow_http(config.s3_allow_http);
        if let Some(region) = &config.s3_region {
            builder = builder.with_region(region);
        }
        if let Some(endpoint) = &config.s3_endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        match (&config.s3_access_key_id, &config.s3_secret_access_key) {
            (Some(id), Some(secret)) => {
                builder = builder
                    .with_access_key_id(id)
                    .with_secret_access_key(secret);
            }
            (None, None) => {}
            _ => anyhow::bail!("s3_access_key_id and s3_secret_access_key must be set together"),
        }
        let store = builder
            .build()
            .with_context(|| format!("configuring the S3 bucket {bucket}"))?;
        Ok(Media {
            store: Arc::new(store),
            local_dir: None,
        })
    }

    /// A store in a local directory, created if missing (0700).
    pub fn local(dir: &Path) -> anyhow::Result<Media> {
        crate::private_fs::create_dir(dir).context("the media directory")?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening media directory {}", dir.display()))?;
        Ok(Media {
            store: Arc::new(store),
            local_dir: Some(dir.to_path_buf()),
        })
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.store
            .put(&object_path(key)?, bytes.into())
            .await
            .with_context(|| format!("storing {key}"))?;
        // object_store creates files with the umask's mode; the directory is
        // already closed, this closes the file too.
        if let Some(dir) = &self.local_dir {
            crate::private_fs::restrict(&dir.join(key))?;
        }
        Ok(())
    }

    /// The object's bytes, or `None` when no object has that key.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        match self.store.get(&object_path(key)?).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {key}")),
        }
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&object_path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e).with_context(|| format!("deleting {key}")),
        }
    }
}

/// An object found by [`Media::list`]: its key and when it was last written.
#[derive(Debug, Clone)]
pub struct Listed {
    pub key: String,
    pub modified_ms: i64,
}

impl Media {
    /// Every object whose key starts with `prefix/` (a folder such as `iris`).
    pub async fn list(&self, prefix: &str) -> anyhow::Result<Vec<Listed>> {
        use futures::TryStreamExt;
        let found: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&object_path(prefix)?))
            .try_collect()
            .await
            .with_context(|| format!("listing {prefix}"))?;
        Ok(found
            .into_iter()
            .map(|m| Listed {
                key: m.location.to_string(),
                modified_ms: m.last_modified.timestamp_millis(),
            })
            .collect())
    }
}

/// Keys come from the server, never from clients, but are still checked so a
/// bug cannot write outside the store (`..`, empty segments).
fn object_path(key: &str) -> anyhow::Result<ObjectPath> {
    ObjectPath::parse(key).with_context(|| format!("invalid media key {key:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let media = Media::local(dir.path()).unwrap();
        assert_eq!(media.get("photos/a/1.jpg").await.unwrap(), None);
        media
            .put("photos/a/1.jpg", Bytes::from_static(b"jpeg"))
            .await
            .unwrap();
        assert_eq!(
            media.get("photos/a/1.jpg").await.unwrap().as_deref(),
            Some(&b"jpeg"[..])
        );
        assert!(dir.path().join("photos/a/1.jpg").exists());
        media.delete("photos/a/1.jpg").await.unwrap();
        assert_eq!(media.get("photos/a/1.jpg").await.unwrap(), None);
        assert!(media.put("../escape", Bytes::new()).await.is_err());
    }

    #[test]
    fn s3_keys_come_in_pairs() {
        let config = Config {
            s3_bucket: Some("photos".into()),
            s3_access_key_id: Some("key".into()),
            ..Config::default()
        };
        let err = Media::open(&config).unwrap_err();
        assert!(err.to_string().contains("set together"), "{err:#}");
        let config = Config {
            s3_secret_access_key: Some("secret".into()),
            ..config
        };
        assert!(Media::open(&config).is_ok(), "built without contacting S3");
    }
}
