-- klartext store schema, version 7: a saved image of the holder index.
--
-- Ingest asks "who held this address then?" through an in-memory index (customers::HolderIndex).
-- Building it from a million sessions takes about a second, on every ingest run (one per mail when
-- an MTA pipes mails in). The index is kept here as an image of its arrays instead, stamped with
-- the generation of the customer data it was built from; the store bumps `generation` with every
-- change of customers, assignments or sessions, which makes the image stale.

CREATE TABLE holder_snapshot (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL,  -- of the customer data (customers, assignments, sessions)
  built_generation INTEGER,     -- the generation `image` was built from; NULL: no image
  image BLOB
);
INSERT INTO holder_snapshot (id, generation) VALUES (1, 1);
