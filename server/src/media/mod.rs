//! The object store that photos and captures go through.
//!
//! [`Media`] wraps an [`object_store::ObjectStore`]: a local directory under
//! the data dir by default; an S3-compatible bucket in production (added with
//! the registry). Keys are opaque paths such as `photos/<child>/<photo>.jpg`;
//! nothing is ever served by a public URL — only through authorised endpoints.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;

#[derive(Clone, Debug)]
pub struct Media {
    store: Arc<dyn ObjectStore>,
}

impl Media {
    /// A store in a local directory, created if missing.
    pub fn local(dir: &Path) -> anyhow::Result<Media> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating media directory {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)
            .with_context(|| format!("opening media directory {}", dir.display()))?;
        Ok(Media {
            store: Arc::new(store),
        })
    }

    pub async fn put(&self, key: &str, bytes: Bytes) -> anyhow::Result<()> {
        self.store
            .put(&object_path(key)?, bytes.into())
            .await
            .with_context(|| format!("storing {key}"))?;
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
}
