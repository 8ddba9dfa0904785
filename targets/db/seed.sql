-- bakeoff reference data: 10000 world rows with random numbers 1..10000 and
-- TechEmpower's 12 fortunes. Safe to run twice (existing rows are kept).
-- Deterministic: setseed fixes random() for this session, so every load
-- gives the same rows (on the same PostgreSQL major version). bakeoff relies
-- on that: before each target it empties the tables and runs this file
-- again (Lab::restore_database), and every target must see the same data.

SELECT setseed(0.5);

INSERT INTO world (id, randomnumber)
SELECT x.id, least(floor(random() * 10000 + 1), 10000)::integer
FROM generate_series(1, 10000) AS x(id)
ON CONFLICT (id) DO NOTHING;

INSERT INTO fortune (id, message) VALUES
    (1, 'fortune: No such file or directory'),
    (2, 'A computer scientist is someone who fixes things that aren''t broken.'),
    (3, 'After enough decimal places, nobody gives a damn.'),
    (4, 'A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1'),
    (5, 'A computer program does what you tell it to do, not what you want it to do.'),
    (6, 'Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen'),
    (7, 'Any program that runs right is obsolete.'),
    (8, 'A list is only as strong as its weakest link. — Donald Knuth'),
    (9, 'Feature: A bug with seniority.'),
    (10, 'Computers make very fast, very accurate mistakes.'),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, 'フレームワークのベンチマーク')
ON CONFLICT (id) DO NOTHING;

ANALYZE world;
ANALYZE fortune;
