-- Photos of children (server/src/photos). The images themselves live in the
-- object store (a local directory or an S3 bucket) under the keys below; only
-- the normalised copy and its thumbnail are kept — never the upload, whose
-- EXIF may carry the place a photo was taken.
CREATE TABLE child_photos (
    -- A UUID, possibly chosen by the client so a retried upload is recognised.
    id               TEXT PRIMARY KEY,
    child_id         TEXT NOT NULL REFERENCES children (id),
    -- Object-store keys of the normalised JPEG and of its thumbnail.
    object_key       TEXT NOT NULL,
    thumbnail_key    TEXT NOT NULL,
    -- SHA-256 (hex) of the stored bytes: the strong ETags of the two images.
    sha256           TEXT NOT NULL,
    thumbnail_sha256 TEXT NOT NULL,
    -- The normalised image, orientation applied.
    width            BIGINT NOT NULL,
    height           BIGINT NOT NULL,
    bytes            BIGINT NOT NULL,
    -- SHA-256 of the uploaded file: a retry with the same id must carry it.
    upload_sha256    TEXT NOT NULL,
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       BIGINT NOT NULL
);
CREATE INDEX child_photos_child ON child_photos (child_id, created_at);
