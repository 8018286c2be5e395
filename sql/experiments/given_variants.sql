-- The rows of {{table}} still without their arm drawn (written before the column and their decision no
-- longer in results, or no results at all): the variant given, the only record of their draw left.
UPDATE {{table}} SET drawn_variant = variant WHERE drawn_variant IS NULL;
