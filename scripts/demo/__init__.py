"""The demo home: a real Home Assistant with three simulated rooms.

``python -m scripts.demo`` (what ``scripts/develop`` runs) prepares a
configuration folder (``.demo/`` unless told otherwise) and starts Home
Assistant on it:

- ``home.py``: the demo home, its rooms, where it is (chosen so that it is
  evening there when the folder is made) and its ``configuration.yaml``;
- ``recorder_db.py``: weeks of simulated lux readings written into the
  recorder's own SQLite database before Home Assistant starts;
- ``storage.py``: the files under ``.storage`` (the Lighting Replay entry
  with one room per subentry, onboarding done, the dashboard) and the user;
- ``hass.py``: starting, waiting for and stopping Home Assistant;
- ``cli.py``: the command itself.
"""
