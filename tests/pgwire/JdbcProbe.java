// JDBC (pgjdbc, the driver of DBeaver and most Java tools) against a served hub: metadata as
// DBeaver reads it, a prepared statement with a parameter, and a denial with its SQLSTATE.
// Run by tests/pgwire/test_other_clients.py: java -cp postgresql.jar JdbcProbe.java HOST PORT USER TOKEN SQL DENIED_SQL
import java.sql.*;
import java.util.Properties;

public class JdbcProbe {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[2]);
        props.setProperty("password", args[3]);
        props.setProperty("sslmode", "disable");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + args[0] + ":" + args[1] + "/sales", props)) {
            DatabaseMetaData meta = c.getMetaData();
            System.out.println("product " + meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion());
            try (ResultSet r = meta.getSchemas()) { while (r.next()) System.out.println("schema " + r.getString("TABLE_SCHEM")); }
            try (ResultSet r = meta.getTables(null, "crm", "%", new String[] {"TABLE"})) { while (r.next()) System.out.println("table " + r.getString("TABLE_SCHEM") + "." + r.getString("TABLE_NAME")); }
            try (ResultSet r = meta.getColumns(null, "crm", "customers", "%")) { while (r.next()) System.out.println("column " + r.getString("COLUMN_NAME") + " " + r.getString("TYPE_NAME")); }
            try (PreparedStatement s = c.prepareStatement(args[4])) {
                s.setString(1, "EU");
                try (ResultSet r = s.executeQuery()) { while (r.next()) System.out.println("row " + r.getLong(1) + " " + r.getString(2)); }
            }
            try (Statement s = c.createStatement()) { s.executeQuery(args[5]); }
            catch (SQLException e) { System.out.println("denied " + e.getSQLState() + " " + e.getMessage()); }
        }
    }
}
