-- Search (issue 13 item 2): which approach to Polish endings ranks better on
-- the demo data — prefix-on-the-stem (what internal/search does: the query
-- word's ending is cut and the stem matched as a prefix in a tsvector of
-- unaccented words) or pg_trgm word similarity (unaccented text, every query
-- word's word_similarity >= 0.6, ranked by their sum)?
--
-- Run on a throwaway database holding the demo data (it creates pg_trgm):
--   forumjst migrate up && forumjst seed-demo && psql "$DATABASE_URL" -f scripts/search-stemming-compare.sql
--
-- Relevance is judged by hand: a document is relevant when it holds an
-- inflected form of every query word's lemma (the regexes below; derived
-- adjectives such as "oświatowa" do not count). The tsquery column is what
-- internal/search's parse makes of the query (TestParseBuildsSafeTSQuery).
--
-- Measured 2026-12-03 on the demo data (49 documents, 14 queries, 74
-- relevant query-document pairs):
--   prefix-on-stem: 77 found, 74 relevant (recall 100%, precision 96%);
--   pg_trgm:        72 found, 69 relevant (recall 93%, precision 96%) — it
--     misses "żłobki" for "zlobek" and "żłobek"/"żłobka" for "zlobki" (3 of 6
--     and 2 of 6 documents), short words whose endings change most trigrams;
--   relevant documents among the top 3: 37 of 39 for both.
-- Both take the 3 "oświatowej/oświatowy" documents for "budzet oswiaty". The
-- prefix-on-stem also keeps phrases (<->) and exclusions in one GIN-indexed
-- tsquery, which pg_trgm similarity cannot; pg_trgm would forgive typos.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DROP TABLE IF EXISTS cmp_docs, cmp_queries;
CREATE TEMP TABLE cmp_docs AS
SELECT d.kind, d.ref_id, d.tsv,
       lower(public.unaccent(concat_ws(' ', t.title, p.body, n.title, n.body, m.title, m.agenda, c.body, a.filename,
              pr.title, pr.problem, pr.solution, pr.results, pr.costs, pr.transfer))) AS txt
FROM search_docs d
LEFT JOIN threads t ON d.kind = 'thread' AND t.id = d.ref_id
LEFT JOIN posts p ON d.kind = 'post' AND p.id = d.ref_id
LEFT JOIN notes n ON d.kind = 'note' AND n.id = d.ref_id
LEFT JOIN meetings m ON d.kind = 'meeting' AND m.id = d.ref_id
LEFT JOIN chat_messages c ON d.kind = 'message' AND c.id = d.ref_id
LEFT JOIN attachments a ON d.kind = 'file' AND a.id = d.ref_id
LEFT JOIN practices pr ON d.kind = 'practice' AND pr.id = d.ref_id;

-- q: as typed; tsq: what internal/search's parse makes of it; words: the
-- folded words for pg_trgm; lemmas: one regex of inflected forms per word.
CREATE TEMP TABLE cmp_queries (q text, tsq text, words text[], lemmas text[]);
INSERT INTO cmp_queries VALUES
 ('szkola', '''szkol'':*', '{szkola}', ARRAY['\mszkol(a|y|e|om|ami|ach)?\M']),
 ('oswiata zlobek', '(''oswiat'':* | ''oswiac'':*) & ''zlob'':*', '{oswiata,zlobek}', ARRAY['\moswia(ta|ty|cie|te)\M', '\mzlob(ek|ka|ku|kiem|ki|kow|kom|kami|kach)\M']),
 ('zlobki', '''zlob'':*', '{zlobki}', ARRAY['\mzlob(ek|ka|ku|kiem|ki|kow|kom|kami|kach)\M']),
 ('dowoz uczniow', '''dowoz'':* & ''uczni'':*', '{dowoz,uczniow}', ARRAY['\mdowo(z|zu|zem|zie|zy|zow|zom|zami|zach)\M', '\m(uczen|ucznia|uczniowi|uczniem|uczniu|uczniowie|uczniow|uczniom|uczniami|uczniach)\M']),
 ('budzet oswiaty', '(''budzet'':* | ''budzec'':*) & (''oswiat'':* | ''oswiac'':*)', '{budzet,oswiaty}', ARRAY['\mbudze(t|tu|towi|tem|cie|ty|tow|tom|tami|tach)\M', '\moswia(ta|ty|cie|te)\M']),
 ('subwencja', '''subwencj'':*', '{subwencja}', ARRAY['\msubwencj(a|i|e|ami|om|ach)\M']),
 ('dyrektor', '''dyrektor'':*', '{dyrektor}', ARRAY['\mdyrektor(a|owi|em|ze|zy|ow|om|ami|ach)?\M']),
 ('diagnoza potrzeb', '''diagnoz'':* & ''potrzeb'':*', '{diagnoza,potrzeb}', ARRAY['\mdiagnoz(a|y|ie|e|ami|om|ach)?\M', '\mpotrzeb(a|y|ie|e|om|ami|ach)?\M']),
 ('boisko', '''bois'':*', '{boisko}', ARRAY['\mbois(ko|ka|ku|kiem|k|kom|kami|kach)\M']),
 ('prognoza', '''prognoz'':*', '{prognoza}', ARRAY['\mprognoz(a|y|ie|e|ami|om|ach)?\M']),
 ('obwod', '''obwod'':*', '{obwod}', ARRAY['\mobwod(u|owi|em|zie|y|ow|om|ami|ach)?\M']),
 ('wariant', '(''wariant'':* | ''warianc'':*)', '{wariant}', ARRAY['\mwarian(t|tu|towi|tem|cie|ty|tow|tom|tami|tach)\M']),
 ('narady', '''narad'':*', '{narady}', ARRAY['\mnarad(a|y|zie|e|om|ami|ach)?\M']),
 ('egzamin', '''egzamin'':*', '{egzamin}', ARRAY['\megzamin(u|owi|em|ie|y|ow|om|ami|ach)?\M']);

CREATE OR REPLACE FUNCTION pg_temp.relevant(txt text, lemmas text[]) RETURNS boolean LANGUAGE sql AS
$$ SELECT bool_and(txt ~ l) FROM unnest(lemmas) l $$;

WITH stem AS (
  SELECT q.q, d.kind, d.ref_id, ts_rank(d.tsv, to_tsquery('forum_search', q.tsq)) AS score
  FROM cmp_queries q JOIN cmp_docs d ON d.tsv @@ to_tsquery('forum_search', q.tsq)
), trgm AS (
  SELECT q.q, d.kind, d.ref_id, (SELECT sum(word_similarity(w, d.txt)) FROM unnest(q.words) w) AS score
  FROM cmp_queries q JOIN cmp_docs d ON (SELECT bool_and(w <% d.txt) FROM unnest(q.words) w)
), runs AS (
  SELECT 'prefix-on-stem' AS approach, * FROM stem UNION ALL SELECT 'pg_trgm word_similarity >= 0.6', * FROM trgm
), judged AS (
  SELECT r.*, pg_temp.relevant(d.txt, q.lemmas) AS rel,
         row_number() OVER (PARTITION BY r.approach, r.q ORDER BY r.score DESC, r.kind, r.ref_id) AS rk
  FROM runs r JOIN cmp_docs d USING (kind, ref_id) JOIN cmp_queries q USING (q)
), totals AS (
  SELECT q.q, count(*) FILTER (WHERE pg_temp.relevant(d.txt, q.lemmas)) AS relevant
  FROM cmp_queries q CROSS JOIN cmp_docs d GROUP BY q.q
)
SELECT a.approach, t.q, t.relevant,
       count(j.*) AS found, count(j.*) FILTER (WHERE j.rel) AS found_relevant,
       count(j.*) FILTER (WHERE j.rk <= 3 AND j.rel) AS relevant_in_top3,
       count(j.*) FILTER (WHERE j.rk <= 3) AS top3
FROM totals t CROSS JOIN (VALUES ('prefix-on-stem'), ('pg_trgm word_similarity >= 0.6')) a(approach)
LEFT JOIN judged j ON j.q = t.q AND j.approach = a.approach
GROUP BY a.approach, t.q, t.relevant ORDER BY t.q, a.approach DESC;
