Feature: The parcels database

  Scenario: The application's database belongs to the application's role
    Then the "db" database query "SELECT datname AS name, pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding FROM pg_database WHERE datname = current_database()" returns:
      | name    | owner   | encoding  |
      | parcels | parcels | SQL_ASCII |
