-- A small shop database for meltano.yml's tap-sqlite-tables (the example reader plugin in
-- examples/readers/sqlite_tables). Create it with:
--   python -c "import sqlite3; sqlite3.connect('output/shop.db').executescript(open('examples/meltano/shop.sql').read())"
CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    amount REAL NOT NULL,
    paid BOOLEAN NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO orders VALUES
    (1, 1, 120.50, 1, '2024-05-01T10:00:00+00:00'),
    (2, 2, 35.00, 0, '2024-05-01T11:30:00+00:00'),
    (3, 1, 980.25, 1, '2024-05-02T09:15:00+00:00'),
    (4, 7, 12.99, 1, '2024-05-03T17:45:00+00:00');
