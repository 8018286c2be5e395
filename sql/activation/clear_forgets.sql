-- Clear the forgets a publication finished (the ones it saw: a later forget stays pending).
DELETE FROM forget_pending WHERE list_contains($forgets, forget_id);
